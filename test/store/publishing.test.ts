// Drafts and scheduled publishing in the store app: a draft book is not on sale, the
// scheduled-fields runner publishes it at publish_at (with its book.updated event), and a
// file from before drafts keeps its books on sale.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { defineModel } from "../../src/models/model.ts";
import { openDatabase } from "../../src/db/index.ts";
import type { Event } from "../../src/events/event.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { Book } from "../../src/store/catalogue.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";
import { storeFixture, type StoreFixture } from "./support.ts";

let store: StoreFixture;
let bus: InProcessBus;
let events: Event[];
let app: ReturnType<typeof createStoreApp>;
let call: ReturnType<typeof request>;
beforeEach(() => {
  store = storeFixture();
  bus = new InProcessBus({ logger: silentLogger });
  events = [];
  bus.subscribe("book.updated", (e) => void events.push(e));
  app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("out") }), logger: silentLogger, bus });
  call = request(app.app);
});
afterEach(async () => {
  await app.scheduledFields.stop();
  await bus.close();
  await store.close();
});

const draft = async (publishAt: number) => {
  const body = { title: "Orlando", author: "Virginia Woolf", price_cents: 1100, stock: 4, status: "draft", publish_at: new Date(publishAt).toISOString() };
  const created = await call("POST", "/api/books", { token: store.users.admin.token, body });
  expect(created.status).toBe(201);
  return created.body.data as { id: string; status: string };
};
const order = (bookId: string) => call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: bookId, quantity: 1 }] } });

test("a draft past its publish_at is published when the runner ticks, its book.updated event is seen, and it goes on sale", async () => {
  const book = await draft(Date.now() - 60_000);
  expect(book.status).toBe("draft");
  const refused = await order(book.id);
  expect(refused.status).toBe(422);
  expect(refused.body.error.details).toEqual([{ field: "lines.0.book_id", message: `no book on sale with id ${book.id}` }]);

  expect(await app.scheduledFields.runDue()).toBe(1);
  expect((await call("GET", `/api/books/${book.id}`)).body.data).toMatchObject({ status: "published" });
  await waitFor(() => events.some((e) => e.subject === book.id), 1_000, "book.updated");
  expect(events.map((e) => [e.subject, (e.data as { status: string }).status])).toEqual([[book.id, "published"]]);
  expect((await order(book.id)).status).toBe(202);
});

test("ordering a draft answers exactly as an unknown id does (422, same message shape, no title)", async () => {
  const book = await draft(Date.now() + 3_600_000);
  const unknownId = book.id.slice(0, -1) + (book.id.endsWith("0") ? "1" : "0");
  const [forDraft, forUnknown] = [await order(book.id), await order(unknownId)];
  expect(forDraft.status).toBe(forUnknown.status);
  expect(forDraft.body.error.code).toBe(forUnknown.body.error.code);
  expect(forDraft.body.error.message).toBe(forUnknown.body.error.message);
  expect(forDraft.body.error.details).toEqual([{ field: "lines.0.book_id", message: `no book on sale with id ${book.id}` }]);
  expect(forUnknown.body.error.details).toEqual([{ field: "lines.0.book_id", message: `no book on sale with id ${unknownId}` }]);
  expect(JSON.stringify(forDraft.body)).not.toContain("Orlando");
});

test("a draft is the admins' until published: left out of others' lists, a 404 to them, its events for admins only", async () => {
  const created: Event[] = [];
  bus.subscribe("book.created", (e) => void created.push(e));
  const book = await draft(Date.now() + 3_600_000);
  const ids = async (token?: string) => ((await call("GET", "/api/books?limit=100", token ? { token } : {})).body.data as { id: string }[]).map((b) => b.id);
  expect(await ids()).not.toContain(book.id);
  expect(await ids(store.users.ana.token)).not.toContain(book.id);
  expect(await ids(store.users.admin.token)).toContain(book.id);
  const hidden = await call("GET", `/api/books/${book.id}`);
  expect(hidden.status).toBe(404);
  expect(hidden.body.error.code).toBe("NOT_FOUND");
  expect((await call("GET", `/api/books/${book.id}`, { token: store.users.ana.token })).status).toBe(404);
  expect((await call("GET", "/api/books?filter=status:eq:draft")).body.data).toEqual([]); // asking for drafts shows none either
  await waitFor(() => created.length === 1, 1_000, "book.created");
  expect(created[0]!.visibility).toBe("admin");

  const published = await call("PATCH", `/api/books/${book.id}`, { token: store.users.admin.token, body: { status: "published" } });
  expect(published.status).toBe(200);
  expect((await call("GET", `/api/books/${book.id}`)).body.data).toMatchObject({ id: book.id, status: "published" });
  expect(await ids()).toContain(book.id);
  await waitFor(() => events.length === 1, 1_000, "book.updated");
  expect(events[0]!.visibility).toBe("all");
});

test("the started runner publishes a draft whose time has come without being asked, and leaves a future one", async () => {
  app.scheduledFields.start();
  const later = await draft(Date.now() + 3_600_000);
  const now = await draft(Date.now() - 1);
  const asAdmin = { token: store.users.admin.token };
  await waitFor(async () => (await call("GET", `/api/books/${now.id}`, asAdmin)).body.data.status === "published", 2_000, "the runner to publish");
  expect((await call("GET", `/api/books/${later.id}`, asAdmin)).body.data.status).toBe("draft");
  expect(app.scheduledFields.sleepingUntil).toBeLessThanOrEqual(Date.now() + 60_000);
});

test("a store file from before drafts keeps its books on sale and gets the publish index", () => {
  const released = defineModel({
    name: "Book",
    table: "books",
    fields: t.Object({ title: t.String({ minLength: 1, maxLength: 300 }), author: t.String({ minLength: 1, maxLength: 200 }), price_cents: t.Integer({ minimum: 0, maximum: 100_000_000 }), stock: t.Integer({ minimum: 0 }) }),
    access: { list: "public", get: "public" },
  });
  expect(Book.migrations[0]!.up).toBe(released.migrations[0]!.up);
  const tmp = tempDir();
  try {
    const old = openDatabase(tmp.file("old.db"), { migrations: released.migrations });
    old.sqlite.run("INSERT INTO books (id, title, author, price_cents, stock, created_at, updated_at) VALUES ('b1', 'Emma', 'Austen', 900, 2, 1, 1)");
    old.close();
    const db = openDatabase(tmp.file("old.db"), { migrations: storeMigrations });
    expect(db.sqlite.query("SELECT status, publish_at FROM books WHERE id = 'b1'").get()).toEqual({ status: "published", publish_at: null });
    expect(db.sqlite.query("SELECT 1 AS found FROM sqlite_master WHERE type = 'index' AND name = 'books_due_publish'").get()).toEqual({ found: 1 });
    db.close();
  } finally {
    tmp.remove();
  }
});
