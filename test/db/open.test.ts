import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { DatabaseInUseError, openDatabase, SchemaTooNewError, type Migration } from "../../src/db/index.ts";
import { migrate } from "../../src/db/migrations.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren(); // a holder still running would keep the lock and outlive the test
  tmp.remove();
});

const pragma = (db: Database, name: string) => Object.values(db.query(`PRAGMA ${name}`).get() as object)[0];

describe("openDatabase", () => {
  test("opens in WAL with synchronous FULL, foreign keys and a busy timeout by default", () => {
    const db = openDatabase(tmp.file("a.db"));
    expect(pragma(db.sqlite, "journal_mode")).toBe("wal");
    expect(pragma(db.sqlite, "synchronous")).toBe(2); // FULL
    expect(pragma(db.sqlite, "foreign_keys")).toBe(1);
    expect(pragma(db.sqlite, "busy_timeout")).toBe(5000);
    db.close();
  });

  test("synchronous NORMAL on request", () => {
    const db = openDatabase(tmp.file("a.db"), { synchronous: "NORMAL" });
    expect(pragma(db.sqlite, "synchronous")).toBe(1);
    db.close();
  });

  test("a second owner of the same file is refused with a clear message; a read-only open still works", () => {
    const path = tmp.file("shop.db");
    const owner = openDatabase(path, { migrations: jobsMigrations });
    expect(() => openDatabase(path, { migrations: jobsMigrations })).toThrow(DatabaseInUseError);
    expect(() => openDatabase(path)).toThrow(/already in use by another Backroom process/);
    const reader = openDatabase(path, { readonly: true, migrations: jobsMigrations });
    expect(reader.sqlite.query("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: 0 });
    expect(() => reader.sqlite.run("DELETE FROM jobs")).toThrow(/readonly/);
    reader.close();
    owner.close();
    openDatabase(path).close(); // free again once the owner closed
  });

  test("another process owning the file is refused, and the lock is gone once that process is killed -9", async () => {
    const path = tmp.file("shop.db");
    const child = spawnBun("test/db/fixtures/hold-open.ts", [path]);
    // "holding" is printed only once the child's open returned, i.e. its lock is taken; a
    // loaded machine may take a while to start Bun, so the wait is generous (and bounded).
    const line = await child.waitForLine(/^holding \d+$/, 30_000);
    expect(line).toBe(`holding ${child.proc.pid}`);
    expect(() => openDatabase(path)).toThrow(DatabaseInUseError);
    expect(() => openDatabase(path)).toThrow(/already in use by another Backroom process/);
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    const db = openDatabase(path, { migrations: jobsMigrations });
    db.close();
  });
});

describe("the owner lock", () => {
  test("is held until close or the process's end, even when the owner keeps no reference to its Db (garbage collection does not release it)", async () => {
    const path = tmp.file("shop.db");
    const child = spawnBun("test/db/fixtures/drop-owner.ts", [path]);
    await child.waitForLine(/^dropped \d+$/, 30_000);
    expect(() => openDatabase(path)).toThrow(DatabaseInUseError);
    child.proc.kill("SIGKILL");
    await child.proc.exited;
    openDatabase(path).close();
  });
});

describe("migrations", () => {
  const v1: Migration = { component: "shop", version: 1, name: "items", up: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)" };
  const v2: Migration = { component: "shop", version: 2, name: "price", up: "ALTER TABLE items ADD COLUMN price INTEGER NOT NULL DEFAULT 0" };

  test("apply once, in order, and are recorded per component", () => {
    const path = tmp.file("m.db");
    openDatabase(path, { migrations: [v1] }).close();
    const db = openDatabase(path, { migrations: [v2, v1, ...jobsMigrations] });
    const rows = db.sqlite.query("SELECT component, version, name FROM backroom_schema ORDER BY component, version").all();
    expect(rows).toEqual([
      { component: "jobs", version: 1, name: expect.any(String) },
      { component: "jobs", version: 2, name: expect.any(String) },
      { component: "jobs", version: 3, name: expect.any(String) },
      { component: "jobs", version: 4, name: expect.any(String) },
      { component: "jobs", version: 5, name: expect.any(String) },
      { component: "shop", version: 1, name: "items" },
      { component: "shop", version: 2, name: "price" },
    ]);
    db.sqlite.run("INSERT INTO items (name, price) VALUES ('pen', 150)");
    db.close();
  });

  test("a failing migration leaves the file exactly as it was", () => {
    const path = tmp.file("m.db");
    const broken: Migration = { component: "shop", version: 2, name: "broken", up: "ALTER TABLE items ADD COLUMN x INTEGER; SELECT nonsense FROM nowhere;" };
    expect(() => openDatabase(path, { migrations: [v1, broken] })).toThrow(/nowhere/);
    const db = openDatabase(path);
    expect(db.sqlite.query("SELECT name FROM sqlite_master WHERE name = 'items'").all()).toEqual([]);
    expect(db.sqlite.query("SELECT count(*) AS n FROM backroom_schema").get()).toEqual({ n: 0 });
    db.close();
  });

  test("a file written by a newer schema is refused with a clear message, also read-only", () => {
    const path = tmp.file("m.db");
    openDatabase(path, { migrations: [v1, v2] }).close();
    expect(() => openDatabase(path, { migrations: [v1] })).toThrow(SchemaTooNewError);
    expect(() => openDatabase(path, { migrations: [v1] })).toThrow(/newer Backroom \(shop schema version 2, this release knows up to 1\)/);
    expect(() => openDatabase(path, { readonly: true, migrations: [v1] })).toThrow(SchemaTooNewError);
  });

  test("on a current file they only read: no write lock is taken (another connection's write transaction does not block them)", () => {
    const path = tmp.file("m.db");
    openDatabase(path, { migrations: [v1] }).close();
    const writer = new Database(path);
    writer.run("BEGIN IMMEDIATE");
    const reader = new Database(path);
    reader.run("PRAGMA busy_timeout = 0");
    expect(migrate(reader, path, [v1])).toBe(0);
    expect(() => migrate(reader, path, [v1, v2])).toThrow(/locked/); // something due: the write lock is needed
    writer.run("ROLLBACK");
    expect(migrate(reader, path, [v1, v2])).toBe(1);
    reader.close();
    writer.close();
  });

  test("migration lists with gaps or repeats are rejected before touching the file", () => {
    expect(() => openDatabase(tmp.file("m.db"), { migrations: [v2] })).toThrow(/without gaps/);
    expect(() => openDatabase(tmp.file("n.db"), { migrations: [v1, v1] })).toThrow(/without gaps or repeats/);
  });
});

describe("db.transaction", () => {
  test("commits on return and rolls back on throw; nested calls are savepoints", () => {
    const db = openDatabase(":memory:");
    db.sqlite.run("CREATE TABLE t (n INTEGER)");
    db.transaction(() => {
      db.sqlite.run("INSERT INTO t VALUES (1)");
      expect(() => db.transaction(() => {
        db.sqlite.run("INSERT INTO t VALUES (2)");
        throw new Error("inner");
      })).toThrow("inner");
    });
    expect(() => db.transaction(() => {
      db.sqlite.run("INSERT INTO t VALUES (3)");
      throw new Error("outer");
    })).toThrow("outer");
    expect(db.sqlite.query("SELECT n FROM t").all()).toEqual([{ n: 1 }]);
    db.close();
  });

  test("refuses an async callback and rolls back what it did before the first await", () => {
    const db = openDatabase(":memory:");
    db.sqlite.run("CREATE TABLE t (n INTEGER)");
    expect(() => db.transaction((async () => {
      db.sqlite.run("INSERT INTO t VALUES (1)");
      await Promise.resolve();
    }) as () => unknown)).toThrow(/must be synchronous/);
    expect(db.sqlite.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    db.close();
  });
});
