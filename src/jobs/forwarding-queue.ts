// The queue of a till whose jobs run on a shared PostgreSQL queue: store and forward.
//
// enqueue stays SYNCHRONOUS and joins the caller's SQLite transaction: the job is written to
// the till's own file (the outbox, a SqliteQueue that no worker claims from) in the same
// commit as the order, so a till that cannot reach PostgreSQL keeps taking orders. A
// Forwarder (forwarder.ts) then moves each job to PostgreSQL with the same id, so the job id
// a client was given stays good. Reads look in the outbox first (a job not forwarded yet,
// answered in microseconds), then in PostgreSQL; cancel likewise. Listings and counts merge
// the two.
import type { PostgresQueue } from "./postgres.ts";
import type { CancelResult, Cancellable, Deletable, DeleteResult, Prunable, QueueControl, QueueState, Retryable, RetryResult, Source, StateCount, StatusReader } from "./queue.ts";
import { mergeQueueStates } from "./queue-states.ts";
import type { SqliteQueue } from "./sqlite.ts";
import { mergeStateCounts } from "./state-counts.ts";
import type { StatusRow } from "./status-columns.ts";
import type { SyncEnqueue } from "./sync-queue.ts";
import type { JobState, NewJob } from "./types.ts";
import { sortWithTieBreaker, type ListQuery } from "../db/list-query.ts";

export class ForwardingQueue implements SyncEnqueue, Cancellable, Retryable, StatusReader, Prunable, Deletable, QueueControl, Pick<Source, "nextDueAt"> {
  /** The job is in the till's file with the caller's writes, or neither is. */
  readonly transactionalEnqueue = true;

  constructor(
    readonly outbox: SqliteQueue,
    readonly remote: PostgresQueue,
  ) {}

  enqueue(job: NewJob): string {
    return this.outbox.enqueue(job);
  }

  enqueueAt(at: number | Date, job: NewJob): string {
    return this.outbox.enqueueAt(at, job);
  }

  enqueueMany(jobs: readonly NewJob[]): string[] {
    return this.outbox.enqueueMany(jobs);
  }

  /** Fires when a job enters the outbox (the forwarder listens; workers listen to PostgreSQL). */
  onAvailable(listener: () => void): () => void {
    return this.outbox.onAvailable(listener);
  }

  async getStatus(id: string): Promise<JobState | null> {
    return this.outbox.getStatus(id) ?? (await this.remote.getStatus(id));
  }

  /**
   * A job still in the outbox is cancelled there; the forwarder then sees the row changed and
   * cancels the copy it may have made meanwhile (forwarder.ts).
   */
  async cancel(id: string): Promise<CancelResult> {
    const local = this.outbox.cancel(id);
    return local === "not_found" ? this.remote.cancel(id) : local;
  }

  async retry(id: string): Promise<RetryResult> {
    const remote = await this.remote.retry(id);
    return remote === "not_found" ? this.outbox.retry(id) : remote;
  }

  /** A finished job is in PostgreSQL, or (cancelled before it was forwarded) still in the outbox. */
  async delete(id: string): Promise<DeleteResult> {
    const local = this.outbox.delete(id);
    return local === "not_found" ? this.remote.delete(id) : local;
  }

  /** The pause lives in PostgreSQL, where the jobs are claimed (by every till of the chain). */
  setQueuePaused(name: string, paused: boolean, ifUnset = false): Promise<void> {
    return this.remote.setQueuePaused(name, paused, ifUnset);
  }

  /** PostgreSQL's queues, with the jobs still in the outbox added to their queue's counts. */
  async queueStates(): Promise<QueueState[]> {
    const remote = await this.remote.queueStates();
    const counts = [...remote, ...this.outbox.queueStates()].flatMap((q) => Object.entries(q.counts).map(([status, n]) => ({ queue: q.name, status, n })));
    return mergeQueueStates(remote, counts);
  }

  async stateCounts(): Promise<StateCount[]> {
    return mergeStateCounts([...(await this.remote.stateCounts()), ...this.outbox.stateCounts()]);
  }

  /**
   * PostgreSQL's page, with the outbox's jobs merged in when there are any (a forwarding
   * backlog): the first offset+limit rows of each, in the query's order, one copy of a job
   * caught between the two, then the page cut from that. While PostgreSQL cannot be reached
   * this fails, as the other reads of it do, rather than pass off the outbox as everything.
   */
  async listStatuses(query: ListQuery): Promise<{ rows: StatusRow[]; total: number }> {
    const window = { ...query, offset: 0, limit: query.offset + query.limit };
    const local = this.outbox.listStatuses(window);
    // The window starts at offset 0, so it holds a row whenever the outbox has a match.
    if (local.rows.length === 0) return this.remote.listStatuses(query);
    const remote = await this.remote.listStatuses(window);
    const seen = new Set(remote.rows.map((r) => r.id));
    const fresh = local.rows.filter((r) => !seen.has(r.id));
    const order = sortWithTieBreaker(query);
    const rows = [...remote.rows, ...fresh].sort((a, b) => compareRows(a, b, order));
    const total = query.skipTotal ? 0 : remote.total + local.total - (local.rows.length - fresh.length);
    return { rows: rows.slice(query.offset, query.offset + query.limit), total };
  }

  nextDueAt(after: number): Promise<number | null> {
    return this.remote.nextDueAt(after);
  }

  /** Retention applies to both: cancelled rows left in the outbox, and this partition's jobs in PostgreSQL. */
  async pruneFinished(statuses: readonly ("succeeded" | "dead" | "cancelled")[], before: number, limit: number): Promise<number> {
    const local = this.outbox.pruneFinished(statuses, before, limit);
    return local + (await this.remote.pruneFinished(statuses, before, limit));
  }
}

/** The order both engines give (NULL first going up, as in SQLite; postgres-list.ts asks PostgreSQL for it). */
function compareRows(a: StatusRow, b: StatusRow, order: readonly { field: string; direction: "asc" | "desc" }[]): number {
  for (const { field, direction } of order) {
    const x = a[field] ?? null;
    const y = b[field] ?? null;
    if (x === y) continue;
    const ascending = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
    return direction === "desc" ? -ascending : ascending;
  }
  return 0;
}
