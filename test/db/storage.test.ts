// When the disk is full or the file cannot be written: a clear error, and nothing already
// committed is lost. The full disk is SQLite's own limit (PRAGMA max_page_count); the read-only
// file is a 0444 file owned by another user than root (root writes through any mode).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, chownSync, readdirSync } from "node:fs";
import { DatabaseNotWritableError, openDatabase } from "../../src/db/index.ts";
import { storeMigrations } from "../../src/store/app.ts";
import { killChildren, spawnCommand } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";

let store: StoreFixture;
beforeEach(() => (store = storeFixture()));
afterEach(async () => {
  await killChildren();
  await store.close();
});

const pages = () => (store.db.sqlite.query("PRAGMA page_count").get() as { page_count: number }).page_count;

async function fillTheDisk() {
  const book = store.services.model("books").create({ title: "Load", author: "L", price_cents: 1, stock: 1_000_000 }, { auth: null, services: store.services });
  const acknowledged: string[] = [];
  store.db.sqlite.run(`PRAGMA max_page_count = ${pages() + 4}`); // a few pages of room left
  for (let i = 0; i < 10_000; i++) {
    const res = await store.call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book.id, quantity: 1 }] } });
    if (res.status !== 202) return { book, acknowledged, refused: res };
    acknowledged.push(res.body.data.order_id);
  }
  throw new Error("the disk never filled up");
}

const counts = () => ({
  orders: (store.db.sqlite.query("SELECT count(*) AS n FROM orders").get() as { n: number }).n,
  jobs: (store.db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'send_receipt'").get() as { n: number }).n,
});

test("a full disk refuses the write that does not fit and keeps every order already acknowledged, with its job; writes resume once there is room", async () => {
  const { book, acknowledged, refused } = await fillTheDisk();
  expect(acknowledged.length).toBeGreaterThan(0);
  expect(refused.status).toBeGreaterThanOrEqual(500);
  expect(counts()).toEqual({ orders: acknowledged.length, jobs: acknowledged.length }); // nothing half-written
  expect(store.db.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
  const stock = store.services.model("books").get(book.id as string)!.stock;
  expect(stock).toBe(1_000_000 - acknowledged.length);

  store.db.sqlite.run("PRAGMA max_page_count = 1073741823"); // the operator frees space
  const after = await store.call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book.id, quantity: 1 }] } });
  expect(after.status).toBe(202);
  store.startWorker();
  const statuses = store.db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'send_receipt' AND status = 'succeeded'");
  await waitFor(() => (statuses.get() as { n: number }).n === acknowledged.length + 1, 20_000, "every receipt sent");
  const ids = new Set((store.db.sqlite.query("SELECT id FROM orders").all() as { id: string }[]).map((r) => r.id));
  for (const id of [...acknowledged, after.body.data.order_id]) expect(ids.has(id)).toBe(true);
});

test.failing("KNOWN BUG: a full disk answers with an error that says so (today: 500 INTERNAL, 'internal error')", async () => {
  const { refused } = await fillTheDisk();
  expect(refused.body.error.code).not.toBe("INTERNAL");
  expect(refused.body.error.message).toMatch(/full|space/i);
});

test("a file this process cannot write is refused at open with a clear message, and is left exactly as it was", async () => {
  const placed = await store.call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: store.books()[0]!.id, quantity: 1 }] } });
  expect(placed.status).toBe(202);
  const copy = tempDir();
  try {
    const target = copy.file("till.db");
    store.db.sqlite.query("VACUUM INTO ?").run(target);
    const before = await Bun.file(target).bytes();
    chmodSync(target, 0o444);
    if (process.getuid?.() !== 0) {
      expect(() => openDatabase(target, { migrations: storeMigrations })).toThrow(DatabaseNotWritableError);
      expect(() => openDatabase(target, { migrations: storeMigrations })).toThrow(/cannot be written: the file .* is read-only for this process/);
    } else {
      // As root: the same open as user nobody, who owns the file but may not write it.
      chmodSync(copy.dir, 0o777);
      chownSync(target, 65534, 65534);
      const child = spawnCommand(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "test/db/fixtures/write-order.ts", target, store.users.ana.token, String(store.books()[0]!.id), copy.file("out")]);
      const line = await child.waitForLine(/^\{/, 30_000);
      expect(JSON.parse(line)).toEqual({ opened: false, error: expect.stringMatching(/cannot be written: the file .* is read-only for this process/) });
      expect(await child.proc.exited).toBe(0);
    }
    expect(await Bun.file(target).bytes()).toEqual(before);
    expect(readdirSync(copy.dir).sort()).toEqual(["till.db"]); // no -wal, -shm or lock file made
    const reader = openDatabase(target, { readonly: true, migrations: storeMigrations });
    expect(reader.sqlite.query("SELECT id FROM orders").all()).toEqual([{ id: placed.body.data.order_id }]);
    reader.close();
  } finally {
    copy.remove();
  }
});
