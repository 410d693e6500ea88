// The SQLite job queue: Queue, Source, Cancellable and StatusReader over one database file.
//
// enqueue is SYNCHRONOUS and joins the transaction open on the connection: write the order,
// enqueue its receipt job, commit once — or throw, and neither exists. Every worker-side
// call batches: one transaction settles many outcomes and claims many jobs, because SQLite
// pays per commit (an fsync under synchronous=FULL), not per row.
import type { Statement } from "bun:sqlite";
import { monotonicFactory } from "ulid";
import type { Db } from "../db/open.ts";
import { systemClock, type Clock } from "../clock.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord } from "./new-job.ts";
import { listRows, type ListQuery, type ListSource } from "../db/list-query.ts";
import { MAX_REQUEUES, type CancelResult, type Cancellable, type ClaimOptions, type Outcome, type Prunable, type Retryable, type RetryResult, type Source, type StateCount, type StatusReader } from "./queue.ts";
import { STATUS_COLUMNS, type StatusRow } from "./status-columns.ts";
import { rowToJob, rowToState, type JobRow, type StateRow } from "./rows.ts";
import { SQL } from "./sqlite-schema.ts";
import { mergeStateCounts } from "./state-counts.ts";
import { SyncQueue } from "./sync-queue.ts";
import type { Job, JobState, NewJob } from "./types.ts";

export { jobsMigrations } from "./sqlite-schema.ts";

export interface SqliteQueueOptions {
  clock?: Clock;
}

export class SqliteQueue extends SyncQueue implements Source, Cancellable, Retryable, StatusReader, Prunable {
  readonly transactionalEnqueue = true;
  private readonly clock: Clock;
  private readonly nextId = monotonicFactory();
  private readonly statements = new Map<string, Statement>();

  constructor(
    private readonly db: Db,
    options: SqliteQueueOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    if (!db.readonly) this.statement(SQL.unparkAll).run();
  }

  // ── Source ──────────────────────────────────────────────────────────────────────────────

  /** Joins the group commit, so worker writes share commits with requests; resolves once durable. */
  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options: ClaimOptions = {}): Promise<{ claimed: Job[]; applied: Outcome[] }> {
    const started = options.started ?? [];
    if (outcomes.length === 0 && max <= 0 && started.length === 0) return Promise.resolve({ claimed: [], applied: [] });
    return this.db.write(() => {
      if (started.length > 0) this.statement(SQL.markStarted).run(JSON.stringify(started), this.clock.now(), this.db.ownerId);
      const applied = outcomes.filter((outcome) => this.settle(outcome));
      const claimed = max > 0 ? this.claim(max, leaseMs, options.startNow ?? max) : [];
      options.inTransaction?.(applied, claimed);
      return { claimed, applied };
    });
  }

  extendLeases(ids: readonly string[], leaseMs: number): void {
    if (ids.length === 0) return;
    const until = this.clock.now() + leaseMs;
    const extend = this.statement(SQL.extendLease);
    this.db.transaction(() => {
      for (const id of ids) extend.run(id, until, this.db.ownerId);
    });
  }

  takeExpired(leaseMs: number): Job[] {
    this.db.settlePending();
    const now = this.clock.now();
    const owner = this.db.ownerId;
    const { rows, released } = this.db.transaction(() => {
      const released = this.statement(SQL.releaseExpiredUnstarted).all(owner, now, MAX_REQUEUES) as { group_key: string | null }[];
      for (const { group_key } of released) if (group_key !== null) this.releaseGroup(group_key);
      return { released, rows: this.statement(SQL.takeExpired).all(owner, now, now + leaseMs) as JobRow[] };
    });
    if (released.length > 0) this.notifyAvailable();
    return rows.map(rowToJob);
  }

  nextDueAt(after: number): number | null {
    const row = this.statement(SQL.nextDueAt).get(after) as { at: number | null } | null;
    return row?.at ?? null;
  }

  // ── Cancellable, StatusReader ───────────────────────────────────────────────────────────

  cancel(id: string): CancelResult {
    this.db.settlePending();
    const cancelled = this.statement(SQL.cancel).get(id, this.clock.now()) as { group_key: string | null } | null;
    if (cancelled) {
      // A cancelled job waiting for its retry was holding its group key.
      if (cancelled.group_key !== null) this.releaseGroup(cancelled.group_key);
      this.notifyAvailable();
      return "cancelled";
    }
    const row = this.statement(SQL.statusOf).get(id) as { status: string } | null;
    if (!row) return "not_found";
    return row.status === "running" ? "running" : "finished";
  }

  retry(id: string): RetryResult {
    this.db.settlePending();
    if (this.statement(SQL.retryDead).run(id, this.clock.now()).changes > 0) {
      this.notifyAvailable();
      return "retried";
    }
    return this.statement(SQL.statusOf).get(id) ? "not_dead" : "not_found";
  }

  pruneFinished(statuses: readonly string[], before: number, limit: number): number {
    this.db.settlePending();
    return this.statement(SQL.pruneFinished).run(JSON.stringify(statuses), before, limit).changes;
  }

  getStatus(id: string): JobState | null {
    const row = this.statement(SQL.state).get(id) as StateRow | null;
    return row ? rowToState(row) : null;
  }

  stateCounts(): StateCount[] {
    return mergeStateCounts(this.statement(SQL.stateCounts).all() as StateCount[]);
  }

  listStatuses(query: ListQuery): { rows: StatusRow[]; total: number } {
    return listRows<StatusRow>(this.db.sqlite, "job_statuses", STATUS_COLUMNS, query, statusIndexFor(query));
  }

  // ── Outbox, for the forwarding queue ────────────────────────────────────────────────────

  /**
   * Up to `limit` committed waiting jobs as stored (due or not), for copying to another queue.
   * Waits for an open group-commit batch to commit by itself rather than cutting it short.
   */
  async outbox(limit: number): Promise<StateRow[]> {
    for (let i = 0; i < 3; i++) await (this.db.pendingFlush() ?? Promise.resolve());
    this.db.settlePending(); // a batch that opened again meanwhile: commit it, never read past it
    return this.statement(SQL.outbox).all(limit) as StateRow[];
  }

  /** Jobs waiting in the outbox (forwarded or not, they are counted until deleted), and the oldest one's creation time. */
  outboxBacklog(): { n: number; oldestCreatedAt: number | null } {
    return this.statement(SQL.outboxBacklog).get() as { n: number; oldestCreatedAt: number | null };
  }

  /**
   * Deletes rows that were copied elsewhere, in one transaction — each only if nothing changed
   * it since `outbox` read it. Returns the rows that did change (cancelled meanwhile, say).
   */
  removeForwarded(rows: readonly StateRow[]): StateRow[] {
    const remove = this.statement(SQL.removeForwarded);
    return this.db.transaction(() => rows.filter((row) => remove.run(row.id, row.status, row.updated_at).changes === 0));
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  protected atomically<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  // One statement (or a unique-key read then an insert, with no await between): atomic as is,
  // and inside a caller's transaction it simply joins it.
  protected insert(job: NewJob): string {
    this.db.settlePending();
    if (job.uniqueKey) {
      const existing = this.statement(SQL.findUnfinishedByUniqueKey).get(job.uniqueKey) as { id: string } | null;
      if (existing) return existing.id;
    }
    const now = this.clock.now();
    const r = toJobRecord(job, this.nextId(now), now);
    this.statement(SQL.insert).run(
      r.id, r.type, r.payload, r.headers, r.priority, r.maxRetry, r.runAt, r.groupKey,
      r.uniqueKey, r.traceId, r.actorId, r.tenantId, r.timeoutMs, r.createdAt,
    );
    return r.id;
  }

  /** Claims up to `max` due jobs, at most one per group key. Runs inside settleAndClaim's transaction. */
  private claim(max: number, leaseMs: number, startNow: number): Job[] {
    const now = this.clock.now();
    const select = this.statement(SQL.selectCandidates);
    const park = this.statement(SQL.park);
    const keysInBatch = new Set<string>();
    const claimed: Job[] = [];
    for (;;) {
      const limit = max - claimed.length + 4;
      const rows = select.all(now, limit) as (JobRow & { held: number })[];
      for (const row of rows) {
        if (claimed.length === max) break;
        if (row.group_key !== null) {
          // Waiting behind another job of its key: park it (it leaves the claim index) so the
          // next claims do not step over it again.
          if (row.held || keysInBatch.has(row.group_key)) {
            park.run(row.id);
            continue;
          }
          keysInBatch.add(row.group_key);
        }
        row.attempts += 1; // the attempt it will be (counted now, or when it starts)
        claimed.push(rowToJob(row));
      }
      if (claimed.length === max || rows.length < limit) break;
    }
    const ids = claimed.map((job) => job.id);
    const starting = Math.max(0, startNow);
    if (starting > 0 && ids.length > 0) this.statement(SQL.markRunning).run(JSON.stringify(ids.slice(0, starting)), now, now + leaseMs, this.db.ownerId);
    if (ids.length > starting) this.statement(SQL.markClaimedAhead).run(JSON.stringify(ids.slice(starting)), now, now + leaseMs, this.db.ownerId);
    return claimed;
  }

  /** Applies one outcome; false when the job is no longer this owner's running attempt. */
  private settle(outcome: Outcome): boolean {
    const applied = this.applyOutcome(outcome);
    // A finished or put-back job releases its group key (a failed one keeps it for its retry).
    if (applied && outcome.kind !== "failed" && outcome.job.groupKey !== null) this.releaseGroup(outcome.job.groupKey);
    return applied;
  }

  private applyOutcome(outcome: Outcome): boolean {
    const { job } = outcome;
    const owner = this.db.ownerId;
    switch (outcome.kind) {
      case "succeeded": {
        const { output, url, mime, sizeBytes } = outcome.result;
        const outputText = output === undefined ? null : JSON.stringify(output);
        return this.statement(SQL.markSucceeded).run(job.id, owner, outputText, url ?? null, mime ?? null, sizeBytes ?? null, outcome.at).changes > 0;
      }
      case "failed":
        return this.statement(SQL.markFailed).run(job.id, owner, outcome.error, outcome.retryAt, outcome.at).changes > 0;
      case "dead": {
        const changed = this.statement(SQL.markDead).run(job.id, owner, outcome.error, outcome.at).changes > 0;
        const letter = changed ? deadLetterFor(job, outcome.error, outcome.deadLetterType) : null;
        if (letter) this.insert(letter);
        return changed;
      }
      case "released":
        return this.statement(SQL.markReleased).run(job.id, owner, outcome.at, outcome.requeue?.runAt ?? outcome.at, outcome.requeue ? 1 : 0).changes > 0;
    }
  }

  /** The next parked job of the key (if any) becomes claimable again. */
  private releaseGroup(groupKey: string): void {
    this.statement(SQL.unparkNext).run(groupKey);
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * A filter to dead/cancelled or to running jobs reads the partial index of those states
 * (bounded by how many there are) instead of walking a table of a million finished jobs.
 */
function statusIndexFor(query: ListQuery): ListSource | undefined {
  for (const group of query.where) {
    if (group.length !== 1 || group[0]!.field !== "status" || (group[0]!.op !== "eq" && group[0]!.op !== "in")) continue;
    const values = [group[0]!.value].flat();
    if (values.every((v) => v === "dead" || v === "cancelled")) return { from: "jobs INDEXED BY jobs_troubled", condition: "status IN ('dead', 'cancelled')" };
    if (values.every((v) => v === "running")) return { from: "jobs INDEXED BY jobs_active", condition: "status IN ('running', 'failed')" };
  }
  return undefined;
}
