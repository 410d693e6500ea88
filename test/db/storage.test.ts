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

test("a full disk under concurrent orders: every order answered 202 is in the file, and no refused order is", async () => {
  const book = store.services.model("books").create({ title: "Load", author: "L", price_cents: 1, stock: 1_000_000 }, { auth: null, services: store.services });
  const before = counts().orders;
  store.db.sqlite.run(`PRAGMA max_page_count = ${pages() + 6}`);
  const answers: number[] = [];
  for (let round = 0; round < 20; round++) {
    const replies = await Promise.all(Array.from({ length: 25 }, () => store.call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book.id, quantity: 1 }] } })));
    answers.push(...replies.map((r) => r.status));
    if (replies.every((r) => r.status !== 202)) break;
  }
  const accepted = answers.filter((s) => s === 202).length;
  expect(answers.some((s) => s >= 500)).toBe(true); // the disk did fill up
  expect(counts().orders - before).toBe(accepted);
  expect(counts().jobs).toBe(counts().orders);
  store.db.sqlite.run("PRAGMA max_page_count = 1073741823");
  expect(store.db.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
});

test("a full disk answers 507 STORAGE_FULL with a message that says so, not 500 INTERNAL", async () => {
  const { refused } = await fillTheDisk();
  expect(refused.status).toBe(507);
  expect(refused.body.error.code).toBe("STORAGE_FULL");
  expect(refused.body.error.message).toMatch(/disk is full/);
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
      // The fixture is compiled into the copy's folder: user nobody may not be able to reach this
      // checkout (a CI clone sits in a 0700 folder), nor the Bun binary inside it.
      const fixture = copy.file("write-order");
      const build = Bun.spawnSync([process.execPath, "build", "--compile", "test/db/fixtures/write-order.ts", "--outfile", fixture], { stdout: "pipe", stderr: "pipe" });
      expect(build.stderr.toString()).not.toContain("error");
      chmodSync(fixture, 0o755);
      const child = spawnCommand(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", fixture, target, store.users.ana.token, String(store.books()[0]!.id), copy.file("out")]);
      const line = await child.waitForLine(/^\{/, 30_000);
      expect(JSON.parse(line)).toEqual({ opened: false, error: expect.stringMatching(/cannot be written: the file .* is read-only for this process/) });
      expect(await child.proc.exited).toBe(0);
    }
    expect(await Bun.file(target).bytes()).toEqual(before);
    expect(readdirSync(copy.dir).filter((f) => f !== "write-order").sort()).toEqual(["till.db"]); // no -wal, -shm or lock file made
    const reader = openDatabase(target, { readonly: true, migrations: storeMigrations });
    expect(reader.sqlite.query("SELECT id FROM orders").all()).toEqual([{ id: placed.body.data.order_id }]);
    reader.close();
  } finally {
    copy.remove();
  }
});

test("jobs that finish while the disk is full lose nothing: their outcomes are written once there is room, each job run once", async () => {
  const runs = new Map<string, number>();
  const logged: string[] = [];
  const logger = { log: (level: string, message: string, fields: Record<string, unknown> = {}) => void logged.push(`${level} ${message} ${JSON.stringify(fields)}`) };
  const ids = store.db.transaction(() => Array.from({ length: 30 }, (_, n) => store.queue.enqueue({ type: "count", payload: { n } })));
  store.db.sqlite.run(`PRAGMA max_page_count = ${pages()}`); // not one page more
  const { Worker } = await import("../../src/jobs/worker.ts");
  // Each outcome carries 20 kB of output: writing it needs new pages, which the full disk refuses.
  const count = (job: { id: string }) => (runs.set(job.id, (runs.get(job.id) ?? 0) + 1), { output: { report: "x".repeat(20_000) } });
  const worker = new Worker({ source: store.queue, handlers: { count }, logger: logger as never, concurrency: 4, backoff: { baseMs: 5, jitter: 0 } }).start();
  try {
    const succeeded = store.db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'count' AND status = 'succeeded'");
    // The operator reads the real cause in the log (not "no such savepoint").
    await waitFor(() => logged.some((line) => /could not write job outcomes.*database or disk is full/.test(line)), 10_000, "the worker to log the full disk");
    expect((succeeded.get() as { n: number }).n).toBe(0);
    store.db.sqlite.run("PRAGMA max_page_count = 1073741823"); // the operator frees space
    await waitFor(() => (succeeded.get() as { n: number }).n === ids.length, 20_000, "every job to succeed once there is room");
    expect([...runs.keys()].sort()).toEqual([...ids].sort());
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(store.db.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
  } finally {
    await worker.shutdown(1_000);
  }
});
