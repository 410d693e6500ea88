// Listing rows in memory (the in-memory queue, Redis' unindexed listings): LIKE matching that
// agrees with SQLite and never backtracks, and filters applied cheapest first. And on SQLite:
// the total of a page, counted only when the page itself does not tell it.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { likeMatcher, listInMemory, listRows, type Column, type ListQuery } from "../../src/db/list-query.ts";

/** A small deterministic generator (mulberry32), so a failure replays. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("likeMatcher", () => {
  test("agrees with SQLite's LIKE on 5,000 random patterns and texts", () => {
    const db = new Database(":memory:");
    const like = db.query("SELECT ? LIKE ? AS m");
    const next = random(16);
    const pick = (alphabet: string, max: number) => Array.from({ length: Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
    for (let i = 0; i < 5_000; i++) {
      const text = pick("abAB_%éÉ.", 10);
      const pattern = pick("aAb%_éÉ.", 7);
      const expected = (like.get(text, pattern) as { m: number }).m === 1;
      if (likeMatcher(pattern)(text) !== expected) throw new Error(`${JSON.stringify(text)} LIKE ${JSON.stringify(pattern)} should be ${expected}`);
    }
    db.close();
  });

  test("26 % (and 200 segments) cost at most text × pattern steps: no backtracking", () => {
    const cases = [
      { pattern: `${"%".repeat(26)}x`, text: "send_receipt" },
      { pattern: `${"%a".repeat(199)}%b`, text: "a".repeat(1_000) },
      { pattern: `${"%_".repeat(199)}%`, text: "a".repeat(150) },
      { pattern: `a${"%a_".repeat(100)}b`, text: "a".repeat(1_000) },
    ];
    for (const { pattern, text } of cases) {
      const meter = { steps: 0 };
      expect(likeMatcher(pattern)(text, meter)).toBe(false);
      expect(meter.steps).toBeLessThanOrEqual((text.length + 1) * (pattern.length + 1));
    }
    const meter = { steps: 0 };
    expect(likeMatcher(`${"%a".repeat(199)}%`)("a".repeat(1_000), meter)).toBe(true);
    expect(meter.steps).toBeLessThanOrEqual(1_001 * 401);
  });
});

describe("listInMemory", () => {
  test("an owner scope rules rows out before a LIKE pattern reads them, whatever order the conditions come in", () => {
    let reads = 0;
    const rows = Array.from({ length: 100 }, (_, i) => ({
      id: String(i).padStart(3, "0"),
      actor_id: "ben",
      get type() {
        reads++;
        return "send_receipt";
      },
    }));
    const query: ListQuery = {
      where: [[{ field: "type", op: "like", value: `${"%".repeat(26)}x` }], [{ field: "actor_id", op: "eq", value: "ana" }]],
      sort: [],
      limit: 20,
      offset: 0,
    };
    expect(listInMemory(rows, query)).toEqual({ rows: [], total: 0 });
    expect(reads).toBe(0);
    expect(listInMemory(rows, { ...query, where: [[{ field: "type", op: "like", value: "%RECEIPT" }], [{ field: "actor_id", op: "eq", value: "ben" }]] }).total).toBe(100);
  });
});

describe("listRows totals", () => {
  const columns: Column[] = [{ name: "id", type: "text", filterable: true, sortable: true }, { name: "n", type: "integer", filterable: true, sortable: true }];
  function table(rows: number) {
    const db = new Database(":memory:", { strict: true });
    db.run("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)");
    for (let i = 0; i < rows; i++) db.query("INSERT INTO t VALUES (?, ?)").run(`r${String(i).padStart(3, "0")}`, i % 3);
    const counts: string[] = [];
    const query = db.query.bind(db);
    db.query = ((sql: string) => {
      if (/count\(\*\)/i.test(sql)) counts.push(sql);
      return query(sql);
    }) as typeof db.query;
    return { db, counts };
  }

  test("every page of every size answers the same total and rows as a COUNT and a full read would", () => {
    const { db } = table(7);
    for (const where of [[], [[{ field: "n", op: "eq" as const, value: 1 }]], [[{ field: "n", op: "gt" as const, value: 5 }]]]) {
      const all = listRows<{ id: string }>(db, "t", columns, { where, sort: [], limit: 1000, offset: 0 }).rows.map((r) => r.id);
      for (let limit = 1; limit <= 9; limit++) {
        for (let page = 1; page <= 9; page++) {
          const offset = (page - 1) * limit;
          const { rows, total } = listRows<{ id: string }>(db, "t", columns, { where, sort: [], limit, offset });
          expect({ where, limit, page, total, rows: rows.map((r) => r.id) }).toEqual({ where, limit, page, total: all.length, rows: all.slice(offset, offset + limit) });
          const capped = listRows(db, "t", columns, { where, sort: [], limit, offset, countLimit: 4 });
          expect(capped.total).toBe(Math.min(all.length, 4));
        }
      }
    }
  });

  test("a short page tells its total without a COUNT; a full page and an empty page past the end count", () => {
    const { db, counts } = table(7);
    expect(listRows(db, "t", columns, { where: [], sort: [], limit: 20, offset: 0 }).total).toBe(7);
    expect(listRows(db, "t", columns, { where: [], sort: [], limit: 5, offset: 5 }).total).toBe(7);
    expect(listRows(db, "t", columns, { where: [[{ field: "n", op: "eq", value: 9 }]], sort: [], limit: 5, offset: 0 }).total).toBe(0);
    expect(counts).toEqual([]);
    expect(listRows(db, "t", columns, { where: [], sort: [], limit: 7, offset: 0 }).total).toBe(7);
    expect(listRows(db, "t", columns, { where: [], sort: [], limit: 5, offset: 10 }).total).toBe(7);
    expect(counts).toHaveLength(2);
    expect(listRows(db, "t", columns, { where: [], sort: [], limit: 5, offset: 0, skipTotal: true }).total).toBe(0);
    expect(counts).toHaveLength(2);
  });
});
