// Which queue `serve` runs on: the database file's own (the default), memory (`--memory`), or
// — with `--queue postgres://…` — a shared PostgreSQL queue fed from the file by store and
// forward (src/jobs/forwarding-queue.ts): orders and their jobs still commit together in the
// till's file, and keep doing so while PostgreSQL is out of reach.
import { hostname } from "node:os";
import type { AppQueue } from "../models/services.ts";
import type { Db } from "../db/open.ts";
import type { OutboxStore } from "../events/outbox-store.ts";
import { PostgresEventOutbox } from "../events/postgres-outbox.ts";
import { Forwarder } from "../jobs/forwarder.ts";
import { ForwardingQueue } from "../jobs/forwarding-queue.ts";
import { MemoryQueue } from "../jobs/memory.ts";
import { PostgresQueue } from "../jobs/postgres.ts";
import type { Source } from "../jobs/queue.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
import { mergeStateCounts } from "../jobs/state-counts.ts";
import type { SyncEnqueue } from "../jobs/sync-queue.ts";
import type { Logger } from "../log.ts";
import type { JobGauges } from "../ops/backroom-metrics.ts";
import { UsageError } from "./settings.ts";

export interface JobBackend {
  /** What the REST layer and the store's actions use. */
  queue: AppQueue;
  /** What the worker claims from. */
  source: Source;
  /** What the cron scheduler enqueues into: always synchronous, in the schedule's transaction. */
  local: SyncEnqueue;
  /** Where /metrics reads job counts, when not from the file alone. */
  gauges?: JobGauges;
  /**
   * Where the job events go on a network bus when the queue is not the file's (PostgreSQL: in
   * each settle's own transaction there). Absent: they go with the app's, to the file's outbox.
   */
  jobEventOutbox?: OutboxStore;
  /** Where the jobs run, for the start-up line. */
  describe: string;
  close(): Promise<void>;
}

export function openJobBackend(options: { db: Db; memory: boolean; url: string | undefined; node: string | undefined; logger: Logger }): JobBackend {
  const { db, memory, url, logger } = options;
  if (!url || url === "sqlite") {
    const queue = memory ? new MemoryQueue() : new SqliteQueue(db);
    return { queue, source: queue, local: queue, describe: memory ? "memory" : "sqlite", close: async () => {} };
  }
  checkPostgresUrl(url);
  if (memory) throw new UsageError("--queue postgres://… forwards from the database file; it cannot be used with --memory");
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

/** A --queue value other than sqlite must be a PostgreSQL URL (serve and the jobs command alike). */
export function checkPostgresUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--queue must be sqlite or postgres://…, not "${url}"`);
}
