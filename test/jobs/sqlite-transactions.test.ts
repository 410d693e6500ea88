// Transactional enqueue: the order, its job and the job's status row commit together.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase, type Db, type Migration } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { tempDir } from "../support/temp.ts";

const orders: Migration = { component: "test", version: 1, name: "orders", up: "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)" };
let tmp: ReturnType<typeof tempDir>;
let db: Db;
let queue: SqliteQueue;
beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(tmp.file("shop.db"), { migrations: [...jobsMigrations, orders] });
  queue = new SqliteQueue(db);
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const count = (sql: string) => (db.sqlite.query(sql).get() as { n: number }).n;

test("a throw after enqueue inside the transaction leaves no order, no job and no status row", () => {
  let jobId = "";
  expect(() =>
    db.transaction(() => {
      db.sqlite.run("INSERT INTO orders (total) VALUES (1250)");
      jobId = queue.enqueue({ type: "send_receipt", payload: { order: 1 } });
      throw new Error("payment declined");
    }),
  ).toThrow("payment declined");
  expect(jobId).not.toBe("");
  expect(count("SELECT count(*) AS n FROM orders")).toBe(0);
  expect(count("SELECT count(*) AS n FROM jobs")).toBe(0);
  expect(count("SELECT count(*) AS n FROM job_statuses")).toBe(0);
  expect(queue.getStatus(jobId)).toBeNull();
});

test("a committed order has its job and an enqueued status row, visible to another connection", () => {
  const jobId = db.transaction(() => {
    db.sqlite.run("INSERT INTO orders (total) VALUES (1250)");
    return queue.enqueue({ type: "send_receipt", payload: { order: 1 }, actorId: "u1" });
  });
  const reader = openDatabase(db.path, { readonly: true });
  expect(reader.sqlite.query("SELECT count(*) AS n FROM orders").get()).toEqual({ n: 1 });
  expect(reader.sqlite.query("SELECT id, type, status, attempts, actor_id FROM job_statuses").all()).toEqual([
    { id: jobId, type: "send_receipt", status: "enqueued", attempts: 0, actor_id: "u1" },
  ]);
  reader.close();
});

test("enqueueMany is atomic: one invalid job stores none, even outside a transaction", () => {
  expect(() => queue.enqueueMany([{ type: "a" }, { type: "b", maxRetry: -1 }])).toThrow(/maxRetry/);
  expect(count("SELECT count(*) AS n FROM jobs")).toBe(0);
});

test("an enqueue rolled back to a savepoint disappears while the rest of the transaction commits", () => {
  db.transaction(() => {
    queue.enqueue({ type: "kept" });
    try {
      db.transaction(() => {
        queue.enqueue({ type: "dropped" });
        throw new Error("inner failure");
      });
    } catch {}
  });
  expect(db.sqlite.query("SELECT type FROM jobs").all()).toEqual([{ type: "kept" }]);
});
