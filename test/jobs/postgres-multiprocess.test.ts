// Two worker processes on one PostgreSQL queue: no job runs twice while both are alive, group
// keys hold across them, and killing one hands its jobs to the other after the lease.
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { spawnBun, type Child } from "../support/child.ts";
import { waitFor } from "../support/wait.ts";
import { engineUrl } from "../support/engines.ts";

const url = engineUrl("DATABASE_URL", "PostgreSQL multi-process tests", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 4 });
  afterAll(() => sql.close());
  let table: string;
  let queue: PostgresQueue;
  let children: Child[];
  beforeEach(async () => {
    table = `mp_${process.pid}_${Date.now() % 100000}`;
    queue = new PostgresQueue({ sql, table });
    await queue.migrate();
    await sql.unsafe(`CREATE TABLE ${table}_runs (job_id TEXT, group_key TEXT, attempt INT, started DOUBLE PRECISION, finished DOUBLE PRECISION, pid INT)`);
    children = [];
  });
  afterEach(async () => {
    for (const c of children) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.proc.exited));
    await sql.unsafe(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${table}_runs`);
  });
  const start = async (leaseMs = 30_000) => {
    const child = spawnBun("test/jobs/fixtures/pg-worker.ts", [url, table, String(leaseMs)]);
    children.push(child);
    await child.waitForLine(/^ready$/);
    return child;
  };
  const runs = async () => (await sql.unsafe(`SELECT * FROM ${table}_runs ORDER BY started`)) as { job_id: string; group_key: string | null; started: number; finished: number; pid: number }[];

  test("two processes share the work: every job runs exactly once, and no two jobs of a key overlap", async () => {
    await Promise.all([start(), start()]);
    const jobs = Array.from({ length: 300 }, (_, n) => ({ type: "work", groupKey: n % 3 === 0 ? `store-${n % 4}` : null, payload: { n } }));
    await queue.enqueueMany(jobs);
    await waitFor(async () => (await runs()).length >= 300, 30_000, "300 runs");
    await Bun.sleep(100);
    const all = await runs();
    expect(all.length).toBe(300);
    expect(new Set(all.map((r) => r.job_id)).size).toBe(300);
    expect(new Set(all.map((r) => r.pid)).size).toBe(2); // both did work
    const byKey = new Map<string, typeof all>();
    for (const r of all) if (r.group_key) byKey.set(r.group_key, [...(byKey.get(r.group_key) ?? []), r]);
    let overlaps = 0;
    for (const list of byKey.values()) for (let i = 1; i < list.length; i++) if (list[i]!.started < list[i - 1]!.finished) overlaps++;
    expect(overlaps).toBe(0);
  }, 60_000);

  test("killing a worker mid-run hands its jobs to the other after the lease", async () => {
    const doomed = await start(1_000);
    await queue.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "work", payload: { n } })));
    await waitFor(async () => (await runs()).length >= 5, 10_000, "the first runs");
    doomed.proc.kill("SIGKILL");
    await doomed.proc.exited;
    const survivor = await start(1_000);
    await waitFor(async () => {
      const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE status = 'succeeded'`)) as { n: number }[];
      return row!.n === 40;
    }, 30_000, "all 40 jobs to succeed");
    const all = await runs();
    expect(new Set(all.map((r) => r.job_id)).size).toBe(40);
    expect(all.some((r) => r.pid === survivor.proc.pid)).toBe(true);
  }, 60_000);

  test("enqueue inside a caller's transaction: a rollback leaves no job, a commit wakes workers elsewhere", async () => {
    await sql.unsafe(`CREATE TABLE ${table}_orders (id TEXT PRIMARY KEY)`);
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe(`INSERT INTO ${table}_orders VALUES ('o1')`);
        await queue.enqueue({ type: "work", payload: { order: "o1" } }, tx);
        throw new Error("payment declined");
      });
    } catch {}
    const [none] = (await sql.unsafe(`SELECT (SELECT count(*)::int FROM ${table}) AS jobs, (SELECT count(*)::int FROM ${table}_orders) AS orders`)) as { jobs: number; orders: number }[];
    expect(none).toEqual({ jobs: 0, orders: 0 });
    await start();
    await sql.begin(async (tx) => {
      await tx.unsafe(`INSERT INTO ${table}_orders VALUES ('o2')`);
      await queue.enqueue({ type: "work", payload: { order: "o2" } }, tx);
    });
    await waitFor(async () => (await runs()).length === 1, 5_000, "the other process to run the job (woken by NOTIFY)");
    await sql.unsafe(`DROP TABLE ${table}_orders`);
  }, 30_000);
}
