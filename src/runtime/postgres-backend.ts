// `serve --queue postgres://…`: a shared PostgreSQL queue fed from the database file by store
// and forward (src/jobs/forwarding-queue.ts): orders and their jobs still commit together in
// the till's file, and keep doing so while PostgreSQL is out of reach. Loaded only when chosen
// (job-backend.ts).
import { hostname } from "node:os";
import { PostgresEventOutbox } from "../events/postgres-outbox.ts";
import { Forwarder } from "../jobs/forwarder.ts";
import { ForwardingQueue } from "../jobs/forwarding-queue.ts";
import { PostgresQueue } from "../jobs/postgres.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
import { mergeStateCounts } from "../jobs/state-counts.ts";
import type { Db } from "../db/open.ts";
import type { Logger } from "../log.ts";

/** The pieces job-backend.ts returns as the JobBackend of `--queue postgres://…`. */
export function openPostgresBackend(options: { db: Db; url: string; node: string | undefined; logger: Logger }) {
  const { db, url, logger } = options;
  const node = options.node || hostname();
  // A till must not hang on a server that stopped answering: requests that need it fail (503)
  // and shutdown ends within seconds; the forwarder and worker retry on their own.
  // Bun.SQL, not `import { SQL } from "bun"`: that import loads the SQL client (~6 ms) on every start.
  const sql = new Bun.SQL(url, { max: 8, connectionTimeout: 5 });
  const outbox = new SqliteQueue(db);
  // This till's partition: its worker claims only the jobs it enqueued, whose handlers read
  // its own file (a receipt needs the order); head office still sees and manages them all.
  // Job events are written with the settle that causes them, in PostgreSQL (a network bus only
  // reads them: without one, the worker keeps no events there).
  const jobEventOutbox = new PostgresEventOutbox({ sql });
  const remote = new PostgresQueue({ sql, partition: node, eventOutbox: jobEventOutbox });
  const forwarder = new Forwarder({ outbox, remote, logger }).start();
  return {
    queue: new ForwardingQueue(outbox, remote),
    source: remote,
    local: outbox,
    // This till's own jobs, so that summing every till's /metrics counts each job once.
    gauges: {
      counts: async () => mergeStateCounts([...(await remote.partitionStateCounts()), ...outbox.stateCounts()]),
      unforwarded: () => outbox.outboxBacklog(),
    },
    jobEventOutbox,
    describe: `postgres (partition ${node})`,
    async close() {
      await forwarder.stop();
      await sql.close();
    },
  };
}

