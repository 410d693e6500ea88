// The PostgreSQL queue passes the same conformance suites as SQLite and memory — when
// DATABASE_URL is set (.ci/run sets it). Each test gets its own table.
import { afterAll, describe, test } from "bun:test";
import { SQL } from "bun";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { queueConformance, type QueueFactory } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.warn("SKIPPED: PostgreSQL queue conformance (set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test)");
  describe.skip("postgres queue conformance (DATABASE_URL not set)", () => test("needs PostgreSQL", () => {}));
} else {
  const sql = new SQL(url, { max: 4 });
  afterAll(() => sql.close());
  let n = 0;
  const postgres: QueueFactory = async (clock) => {
    const table = `conf_${process.pid}_${++n}`;
    const queue = new PostgresQueue({ sql, table, clock });
    await queue.migrate();
    return { queue, close: async () => void (await sql.unsafe(`DROP TABLE IF EXISTS ${table}`)) };
  };
  queueConformance("postgres", postgres);
  workerConformance("postgres", postgres);
}
