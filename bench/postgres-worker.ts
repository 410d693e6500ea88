// One worker process for bench/postgres.ts: no-op handler, concurrency 8, until told to stop.
import { SQL } from "bun";
import { PostgresQueue } from "../src/jobs/postgres.ts";
import { Worker } from "../src/jobs/worker.ts";
import { silentLogger } from "../src/log.ts";

const sql = new SQL(process.argv[2]!, { max: 4 });
const worker = new Worker({ source: new PostgresQueue({ sql, table: process.argv[3]! }), handlers: { noop: () => {} }, concurrency: 8, logger: silentLogger }).start();
console.log("ready");
process.on("SIGTERM", async () => {
  await worker.shutdown(2_000);
  await sql.close();
  process.exit(0);
});
