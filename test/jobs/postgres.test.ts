// The PostgreSQL queue passes the same conformance suites as SQLite and memory — when
// DATABASE_URL is set (.ci/run sets it). Each test gets its own table.
import { afterAll } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { queueConformance, type QueueFactory } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";
import { engineUrl } from "../support/engines.ts";

const url = engineUrl("DATABASE_URL", "PostgreSQL queue conformance", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 4 });
  afterAll(() => sql.close());
  let n = 0;
  const postgres: QueueFactory = async (clock) => {
    const table = `conf_${process.pid}_${++n}`;
    const queue = new PostgresQueue({ sql, table, clock });
    await queue.migrate();
    return {
      queue,
      reopen: async () => {
        const again = new PostgresQueue({ sql, table, clock });
        await again.migrate();
        return again;
      },
      close: async () => void (await sql.unsafe(`DROP TABLE IF EXISTS ${table}`)),
      enqueueInTransaction: async (job, end) => {
        // Only the error thrown here may end the transaction: an enqueue that threw fails the test.
        const rollback = new Error("rolled back by the test");
        let id = "";
        await sql
          .begin(async (tx) => {
            id = await queue.enqueue(job, tx);
            if (end === "rollback") throw rollback;
          })
          .catch((error) => {
            if (error !== rollback) throw error;
          });
        return id;
      },
    };
  };
  queueConformance("postgres", postgres, { transactionalEnqueue: true, durable: true });
  workerConformance("postgres", postgres);
}
