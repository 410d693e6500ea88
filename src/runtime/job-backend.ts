// Which queue `serve` runs on: the database file's own (the default), memory (`--memory`), or
// — with `--queue postgres://…` — a shared PostgreSQL queue fed from the file by store and
// forward (postgres-backend.ts, loaded only then, with the memory queue: neither is a
// default start's code to load).
import type { AppQueue } from "../models/services.ts";
import type { Db } from "../db/open.ts";
import type { OutboxStore } from "../events/outbox-store.ts";
import type { Source } from "../jobs/queue.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
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

export interface JobBackendOptions {
  db: Db;
  memory: boolean;
  url: string | undefined;
  node: string | undefined;
  logger: Logger;
}

export async function openJobBackend(options: JobBackendOptions): Promise<JobBackend> {
  const { db, memory, url } = options;
  if (!url || url === "sqlite") {
    const queue = memory ? new (await import("../jobs/memory.ts")).MemoryQueue() : new SqliteQueue(db);
    return { queue, source: queue, local: queue, describe: memory ? "memory" : "sqlite", close: async () => {} };
  }
  checkPostgresUrl(url);
  if (memory) throw new UsageError("--queue postgres://… forwards from the database file; it cannot be used with --memory");
  return (await import("./postgres-backend.ts")).openPostgresBackend({ ...options, url });
}

/** A --queue value other than sqlite must be a PostgreSQL URL (serve and the jobs command alike). */
export function checkPostgresUrl(url: string): void {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--queue must be sqlite or postgres://…, not "${url}"`);
}
