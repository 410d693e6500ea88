// Every hot statement of the PostgreSQL queue is served by the index its comment names
// (src/jobs/postgres-sql.ts), on a table big enough that the planner would rather scan if the
// index did not fit: 100,000 jobs, most finished, in two partitions.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { postgresStatements } from "../../src/jobs/postgres-sql.ts";
import { engineUrl } from "../support/engines.ts";

const url = engineUrl("DATABASE_URL", "PostgreSQL query plans", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  // One connection: PREPARE and EXPLAIN EXECUTE must meet on the same session.
  const sql = new SQL(url, { max: 1 });
  const table = `plan_${process.pid}`;
  const q = postgresStatements(table);
  beforeAll(async () => {
    await new PostgresQueue({ sql, table }).migrate();
    await sql.unsafe(`
      INSERT INTO ${table} (id, type, status, payload, max_retry, run_at, group_key, created_at, updated_at, partition_key, lease_expires_at)
      SELECT lpad(g::text, 26, '0'), 't',
             CASE WHEN g % 50 = 0 THEN 'enqueued' WHEN g % 50 = 1 THEN 'running' WHEN g % 50 = 2 THEN 'failed' ELSE 'succeeded' END,
             '{}', 3, g, CASE WHEN g % 7 = 0 THEN 'store-' || (g % 13) END, g, g, CASE WHEN g % 2 = 0 THEN '' ELSE 'till-7' END,
             CASE WHEN g % 50 = 1 THEN g END
      FROM generate_series(1, 100000) g`);
    await sql.unsafe(`ANALYZE ${table}`);
  });
  afterAll(async () => {
    await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
    await sql.close();
  });

  let n = 0;
  const plan = async (statement: string, params: unknown[]): Promise<string> => {
    const name = `p${++n}`;
    await sql.unsafe(`PREPARE ${name} AS ${statement}`);
    const literals = params.map((p) => (typeof p === "number" ? String(p) : p === null ? "NULL" : `'${p}'`));
    const args = literals.length ? `(${literals.join(", ")})` : "";
    const rows = (await sql.unsafe(`EXPLAIN EXECUTE ${name}${args}`)) as { "QUERY PLAN": string }[];
    await sql.unsafe(`DEALLOCATE ${name}`);
    return rows.map((r) => r["QUERY PLAN"]).join("\n");
  };

  test("the claim walks one queue's range of the partition's claim index in order: no sort, no scan of finished jobs", async () => {
    const p = await plan(q.claimCandidates, [1e15, 40, "till-7", "default"]);
    expect(p).toContain(`Index Scan using ${table}_claimq`);
    // The partition and the queue are a range of the index, not a filter over all of it.
    expect(p).toMatch(/Index Cond: \(\(partition_key = .*\) AND \(queue = /);
    expect(p).not.toMatch(/Seq Scan|Sort/);
  });

  test("the open queues are a skip-scan of the claim index, one probe per queue", async () => {
    const p = await plan(q.openQueues, ["till-7"]);
    expect(p).toContain(`${table}_claimq`);
    expect(p).not.toMatch(/Seq Scan on plan_\d+ /);
    expect(p).not.toContain("Sort");
  });

  test("the queues page counts from the states index (index-only) and the kept succeeded counts", async () => {
    const p = await plan(q.queueCounts, []);
    expect(p).toContain(`${table}_states2`);
    expect(p).not.toMatch(new RegExp(`Seq Scan on ${table} `));
    expect(await plan(q.deleteFinished, ["x"])).toContain(`${table}_pkey`);
  });

  test("group holds, next due time and lease takeover use their partial indexes", async () => {
    expect(await plan(q.groupKeyHeld, ["store-3", "x"])).toContain(`${table}_holders`);
    const next = await plan(q.nextDueAt, [5, "till-7"]);
    expect(next).toContain(`${table}_next`);
    expect(next).toMatch(/Index Cond: \(\(partition_key = /);
    expect(next).not.toMatch(new RegExp(`Seq Scan on ${table} `)); // the pause table is a handful of rows
    const expired = await plan(q.takeExpired, ["owner", 1e15, 1e15, "till-7"]);
    expect(expired).toContain(`${table}_lease`);
    expect(expired).not.toContain("Seq Scan");
    const unstarted = await plan(q.releaseExpiredUnstarted, [1e15, "till-7", 5]);
    expect(unstarted).toContain(`${table}_lease`);
    expect(unstarted).not.toContain("Seq Scan");
    expect(await plan(q.unfinishedByUniqueKey, ["k"])).toContain(`${table}_unique`);
  });

  test("counts read the states index, never the succeeded jobs' rows", async () => {
    const all = await plan(q.stateCounts, []);
    expect(all).toContain(`${table}_states2`);
    expect(all).not.toContain("Seq Scan");
    const one = await plan(q.partitionStateCounts, ["till-7"]);
    expect(one).toContain(`${table}_states2`);
    expect(one).toMatch(/Index Cond: \(partition_key = /);
    expect(one).not.toContain("Seq Scan");
  });

  test("per-job transitions are primary-key lookups", async () => {
    // The id and the owner, then NULL for every other parameter: only the plan is read.
    const arity = (statement: string) => Math.max(...(statement.match(/\$\d+/g) ?? []).map((s) => Number(s.slice(1))));
    for (const statement of [q.markSucceeded, q.markFailed, q.markDead, q.markReleased]) {
      expect(await plan(statement, ["x", "owner", ...Array(arity(statement) - 2).fill(null)])).toContain(`${table}_pkey`);
    }
    expect(await plan(q.cancel, ["x", 1])).toContain(`${table}_pkey`);
    expect(await plan(q.state, ["x"])).toContain(`${table}_pkey`);
  });
}
