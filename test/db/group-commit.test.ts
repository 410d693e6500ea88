// Group commit: units share a commit; each is answered only after it; one failing unit does
// not take the others with it.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase, type Db } from "../../src/db/index.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
let db: Db;
beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(tmp.file("g.db"));
  db.sqlite.run("CREATE TABLE t (n INTEGER NOT NULL)");
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const committed = () => {
  const reader = openDatabase(db.path, { readonly: true });
  const rows = (reader.sqlite.query("SELECT n FROM t ORDER BY n").all() as { n: number }[]).map((r) => r.n);
  reader.close();
  return rows;
};

test("units written together share one commit and are answered only after it", async () => {
  const answered: number[] = [];
  const writes = [1, 2, 3].map((n) =>
    db.write(() => {
      db.sqlite.run("INSERT INTO t (n) VALUES (?)", [n]);
      return n;
    }).then((value) => {
      answered.push(value);
      expect(committed()).toContain(value); // durable before the caller hears of it
      return value;
    }),
  );
  expect(committed()).toEqual([]); // nothing visible to others before the commit
  expect(answered).toEqual([]);
  expect(await Promise.all(writes)).toEqual([1, 2, 3]);
  expect(committed()).toEqual([1, 2, 3]);
});

test("a unit that throws rolls back to its own savepoint; the others commit", async () => {
  const ok = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (1)"));
  const bad = db.write(() => {
    db.sqlite.run("INSERT INTO t (n) VALUES (2)");
    throw new Error("out of stock");
  });
  const ok2 = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (3)"));
  await expect(bad).rejects.toThrow("out of stock");
  await Promise.all([ok, ok2]);
  expect(committed()).toEqual([1, 3]);
});

test("an async unit is refused and leaves nothing", async () => {
  const bad = db.write((async () => db.sqlite.run("INSERT INTO t (n) VALUES (9)")) as () => unknown);
  await expect(bad).rejects.toThrow(/must be synchronous/);
  await db.whenFlushed();
  expect(committed()).toEqual([]);
});

test("a synchronous transaction at top level commits an open batch first, so 'returned' still means durable", async () => {
  const pending = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (1)"));
  db.transaction(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  expect(committed()).toEqual([1, 2]);
  await pending;
});

test("a batch commits as soon as maxBatch units have joined", async () => {
  db.close();
  db = openDatabase(tmp.file("g.db"), { groupCommit: { maxBatch: 2, windowMs: 60_000 } });
  const a = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (1)"));
  expect(committed()).toEqual([]);
  const b = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  expect(committed()).toEqual([1, 2]);
  await Promise.all([a, b]);
});

test("if the commit fails, every unit in the batch is told so", async () => {
  const a = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (1)"));
  const b = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  const flushed = db.whenFlushed();
  // A deferred foreign-key violation makes COMMIT itself fail.
  db.sqlite.run("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
  db.sqlite.run("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)");
  db.sqlite.run("INSERT INTO child (parent_id) VALUES (42)");
  const outcomes = await Promise.allSettled([a, b, flushed]);
  expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "fulfilled"))).toEqual(Array(3).fill("SQLiteError: FOREIGN KEY constraint failed"));
  expect(committed()).toEqual([]);
  // The connection is usable again.
  await db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (3)"));
  expect(committed()).toEqual([3]);
});

test("after-commit callbacks run once the work is durable, and never for work rolled back", async () => {
  const ran: string[] = [];
  db.transaction(() => {
    db.afterCommit(() => ran.push(`outer sees ${committed().length} row(s)`));
    db.sqlite.run("INSERT INTO t (n) VALUES (1)");
    try {
      db.transaction(() => {
        db.afterCommit(() => ran.push("rolled-back savepoint"));
        throw new Error("inner");
      });
    } catch {}
  });
  expect(() => db.transaction(() => {
    db.afterCommit(() => ran.push("rolled-back transaction"));
    throw new Error("outer");
  })).toThrow();
  const kept = db.write(() => db.afterCommit(() => ran.push(`unit sees ${committed().length} row(s)`)));
  const dropped = db.write(() => {
    db.afterCommit(() => ran.push("failed unit"));
    throw new Error("unit");
  }).catch(() => {});
  db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  await kept;
  await dropped;
  expect(ran).toEqual(["outer sees 1 row(s)", "unit sees 2 row(s)"]);
});

test("an HTTP answer given while a batch is open waits for that batch's commit", async () => {
  const { createApp } = await import("../../src/api/app.ts");
  const { MemoryQueue } = await import("../../src/jobs/memory.ts");
  const { silentLogger } = await import("../../src/log.ts");
  db.close();
  // A long window, so "did not wait for one" has a bound a loaded machine meets.
  db = openDatabase(tmp.file("g.db"), { groupCommit: { windowMs: 1_500, maxBatch: 1_000 } });
  const app = createApp({ db, queue: new MemoryQueue(), logger: silentLogger }).app;
  const order: string[] = [];
  const write = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (7)")).then(() => order.push("committed"));
  const read = app.handle(new Request("http://localhost/openapi.json")).then(() => order.push("answered"));
  await Promise.all([write, read]);
  expect(order).toEqual(["committed", "answered"]);
  const quick = performance.now();
  await app.handle(new Request("http://localhost/openapi.json")); // no batch open: no wait
  expect(performance.now() - quick).toBeLessThan(1_000);
});

test("a unit that fills the disk takes its batch down (SQLite rolls it all back): each writer in it is told the real cause, none is answered as written, and the next batch works once there is room", async () => {
  const pages = (db.sqlite.query("PRAGMA page_count").get() as { page_count: number }).page_count;
  db.sqlite.run(`PRAGMA max_page_count = ${pages}`);
  const outcome = (p: Promise<unknown>) => p.then(() => "written", (error: Error) => error.message);
  const small = outcome(db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (1)")));
  let big: Promise<string>;
  try {
    big = outcome(db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (?)", ["x".repeat(100_000)]) /* SQLite keeps the text as it is */));
  } catch (error) {
    big = Promise.resolve(`threw at once: ${(error as Error).message}`);
  }
  expect(await Promise.all([small, big])).toEqual(["database or disk is full", "database or disk is full"]);
  expect(db.sqlite.inTransaction).toBe(false);
  expect(committed()).toEqual([]);
  db.sqlite.run("PRAGMA max_page_count = 1073741823");
  await db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  expect(committed()).toEqual([2]);
});

test("savepoint journals stay in memory: after a unit that changed far more than 64 KiB of existing pages, a unit that throws still rolls back alone, and the others commit", async () => {
  expect((db.sqlite.query("PRAGMA temp_store").get() as { temp_store: number }).temp_store).toBe(2); // MEMORY
  db.sqlite.run("CREATE TABLE wide (id INTEGER PRIMARY KEY, pad TEXT NOT NULL)");
  db.transaction(() => { for (let id = 0; id < 400; id++) db.sqlite.run("INSERT INTO wide VALUES (?, ?)", [id, "a".repeat(1000)]); });
  const big = db.write(() => db.sqlite.run("UPDATE wide SET pad = ?", ["b".repeat(1000)])); // ~100 pages journaled
  const failed = db.write(() => {
    db.sqlite.run("INSERT INTO t (n) VALUES (1)");
    db.sqlite.run("UPDATE wide SET pad = 'c' WHERE id < 200");
    throw new Error("no");
  }).then(() => "written", (error: Error) => error.message);
  const after = db.write(() => db.sqlite.run("INSERT INTO t (n) VALUES (2)"));
  await big;
  expect(await failed).toBe("no");
  await after;
  expect(committed()).toEqual([2]);
  const pads = db.sqlite.query("SELECT DISTINCT pad FROM wide").all() as { pad: string }[];
  expect(pads).toEqual([{ pad: "b".repeat(1000) }]);
});
