// Worker processes on one PostgreSQL queue (the shared multi-process suite), and enqueue in a
// caller's transaction seen from another process.
import { afterAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { waitFor } from "../support/wait.ts";
import { engineUrl } from "../support/engines.ts";
import type { Run } from "./fixtures/worker-process.ts";
import { multiProcessConformance } from "./multiprocess-conformance.ts";

const url = engineUrl("DATABASE_URL", "PostgreSQL multi-process tests", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 4 });
  afterAll(() => sql.close());
  let table = "";
  let queue: PostgresQueue;
  const suite = multiProcessConformance("postgres", async () => {
    table = `mp_${process.pid}_${Date.now() % 100000}`;
    queue = new PostgresQueue({ sql, table });
    await queue.migrate();
    await sql.unsafe(`CREATE TABLE ${table}_runs (job_id TEXT, group_key TEXT, attempt INT, started DOUBLE PRECISION, finished DOUBLE PRECISION, pid INT)`);
    return {
      queue,
      worker: { script: "test/jobs/fixtures/pg-worker.ts", args: [url, table] },
      runs: async () => (await sql.unsafe(`SELECT * FROM ${table}_runs ORDER BY started`)) as Run[],
      close: async () => void (await sql.unsafe(`DROP TABLE IF EXISTS ${table}; DROP TABLE IF EXISTS ${table}_runs; DROP TABLE IF EXISTS ${table}_orders`)),
    };
  });

  test("enqueue inside a caller's transaction: a rollback leaves no job, a commit wakes workers elsewhere", async () => {
    await sql.unsafe(`CREATE TABLE ${table}_orders (id TEXT PRIMARY KEY)`);
    const declined = new Error("payment declined");
    let enqueued = "";
    const outcome = await sql
      .begin(async (tx) => {
        await tx.unsafe(`INSERT INTO ${table}_orders VALUES ('o1')`);
        enqueued = await queue.enqueue({ type: "work", payload: { order: "o1" } }, tx);
        throw declined;
      })
      .catch((error: unknown) => error);
    expect(outcome).toBe(declined); // the rollback came from our throw, not from a failed enqueue
    expect(enqueued).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    const [none] = (await sql.unsafe(`SELECT (SELECT count(*)::int FROM ${table}) AS jobs, (SELECT count(*)::int FROM ${table}_orders) AS orders`)) as { jobs: number; orders: number }[];
    expect(none).toEqual({ jobs: 0, orders: 0 });
    await suite.start();
    await sql.begin(async (tx) => {
      await tx.unsafe(`INSERT INTO ${table}_orders VALUES ('o2')`);
      await queue.enqueue({ type: "work", payload: { order: "o2" } }, tx);
    });
    await waitFor(async () => (await suite.fixture().runs()).length === 1, 5_000, "the other process to run the job (woken by NOTIFY)");
  }, 30_000);
}
