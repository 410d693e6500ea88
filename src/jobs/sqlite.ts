// The SQLite job queue: Queue, Source, Cancellable and StatusReader over one database file.
//
// enqueue is SYNCHRONOUS and joins the transaction open on the connection: write the order,
// enqueue its receipt job, commit once — or throw, and neither exists. Every worker-side
// call batches: one transaction settles many outcomes and claims many jobs, because SQLite
// pays per commit (an fsync under synchronous=FULL), not per row.
import type { Statement } from "bun:sqlite";
import { monotonicFactory } from "../ulid.ts";
import type { Db } from "../db/open.ts";
import { systemClock, type Clock } from "../clock.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord } from "./new-job.ts";
import { listRows, type ListQuery, type ListSource } from "../db/list-query.ts";
import { attemptEntry } from "./attempt-history.ts";
import { MAX_REQUEUES, type CancelResult, type Cancellable, type ClaimOptions, type Deletable, type DeleteResult, type Outcome, type Prunable, type QueueControl, type QueueState, type Retryable, type RetryResult, type Source, type StateCount, type StatusReader } from "./queue.ts";
import { mergeQueueStates } from "./queue-states.ts";
import { STATUS_COLUMNS, type StatusRecord, type StatusRow } from "./status-columns.ts";
import { rowToJob, rowToState, type JobRow, type StateRow } from "./rows.ts";
import { SQL } from "./sqlite-schema.ts";
import { mergeStateCounts } from "./state-counts.ts";
import { SucceededTally } from "./succeeded-tally.ts";
import { SyncQueue } from "./sync-queue.ts";
import type { Job, JobState, NewJob, Result } from "./types.ts";

export { jobsMigrations } from "./sqlite-schema.ts";

export interface SqliteQueueOptions {
  clock?: Clock;
}

export class SqliteQueue extends SyncQueue implements Source, Cancellable, Retryable, StatusReader, Prunable, Deletable, QueueControl {
  readonly transactionalEnqueue = true;
  readonly synchronousReads = true;
  private readonly clock: Clock;
  private readonly nextId = monotonicFactory();
  private readonly statements = new Map<string, Statement>();
  private readonly succeededTally: SucceededTally;

  constructor(
    private readonly db: Db,
    options: SqliteQueueOptions = {},
  ) {
    super();
    this.clock = options.clock ?? systemClock;
    if (!db.readonly) this.statement(SQL.unparkAll).run();
    this.succeededTally = SucceededTally.of(db);
  }

  // ── Source ──────────────────────────────────────────────────────────────────────────────

  /** Joins the group commit, so worker writes share commits with requests; resolves once durable. */
  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options: ClaimOptions = {}): Promise<{ claimed: Job[]; applied: Outcome[] }> {
    const started = options.started ?? [];
    if (outcomes.length === 0 && max <= 0 && started.length === 0) return Promise.resolve({ claimed: [], applied: [] });
    return this.db.write(() => {
      if (started.length > 0) this.statement(SQL.markStarted).run(JSON.stringify(started), this.clock.now(), this.db.ownerId);
      const succeeded: string[] = []; // the queue of each job that succeeded
      const together = this.succeedTogether(outcomes);
      const applied = outcomes.filter((outcome) => this.settle(outcome, succeeded, together));
      const claimed = max > 0 ? this.claim(max, leaseMs, options.startNow ?? max, options.queueAllowances) : [];
      options.inTransaction?.(applied, claimed);
      // Last in the unit, so nothing after it can roll the unit back. A claim that took all it
      // could means a backlog: the counts may wait in memory.
      this.succeededTally.settled(succeeded, claimed.length < max, this.clock.now());
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
    return rows.map((row) => rowToJob(row));
  }

  nextDueAt(after: number): number | null {
    let next: number | null = null;
    for (const queue of this.openQueues()) {
      const at = (this.statement(SQL.nextDueAt).get(after, queue) as { at: number | null } | null)?.at ?? null;
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
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
    return this.db.transaction(() => {
      const deleted = this.statement(SQL.pruneFinished).all(JSON.stringify(statuses), before, limit) as { queue: string; status: string }[];
      this.uncount(deleted);
      return deleted.length;
    });
  }

  delete(id: string): DeleteResult {
    this.db.settlePending();
    const deleted = this.db.transaction(() => {
      const rows = this.statement(SQL.deleteFinished).all(id) as { queue: string; status: string }[];
      this.uncount(rows);
      return rows.length > 0;
    });
    if (deleted) return "deleted";
    return this.statement(SQL.statusOf).get(id) ? "not_finished" : "not_found";
  }

  // ── QueueControl ────────────────────────────────────────────────────────────────────────

  setQueuePaused(name: string, paused: boolean, ifUnset = false): void {
    this.db.settlePending();
    const changes = this.statement(ifUnset ? SQL.declarePaused : SQL.setPaused).run(name, paused ? 1 : 0, this.clock.now()).changes;
    if (!paused && changes > 0) this.notifyAvailable();
  }

  queueStates(): QueueState[] {
    return mergeQueueStates(
      this.statement(SQL.queueStates).all() as { name: string; paused: boolean }[],
      [...(this.statement(SQL.queueCounts).all() as { queue: string; status: string; n: number }[]), ...this.succeededTally.unwrittenCounts()],
    );
  }

  getStatus(id: string): JobState | null {
    const row = this.statement(SQL.state).get(id) as StateRow | null;
    return row ? rowToState(row) : null;
  }

  getStatusRecord(id: string): StatusRecord | null {
    return this.statement(SQL.statusRecord).get(id) as StatusRecord | null;
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

  /** Deleted rows no longer count: the succeeded ones come off their queue's kept count. */
  private uncount(rows: readonly { queue: string; status: string }[]): void {
    this.succeededTally.deleted(rows.filter((row) => row.status === "succeeded").map((row) => row.queue));
  }

  /** Queues with waiting jobs that are not paused (the pauses read from the file: another process may set them). */
  private openQueues(): string[] {
    return (this.statement(SQL.waitingQueues).all() as { name: string }[]).map((r) => r.name);
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
      r.uniqueKey, r.traceId, r.actorId, r.tenantId, r.timeoutMs, r.createdAt, r.queue,
    );
    return r.id;
  }

  /**
   * Claims up to `max` due jobs, at most one per group key, from the queues that are not
   * paused, each queue at most its allowance. Each open queue's range of jobs_available is read
   * in claim order and the pages merged, so the batch is in claim order across queues (higher
   * priority, then earlier run_at, first). Runs inside settleAndClaim's transaction.
   */
  private claim(max: number, leaseMs: number, startNow: number, allowances: Readonly<Record<string, number>> = {}): Job[] {
    const now = this.clock.now();
    const open = this.openQueues();
    if (open.length === 0) return [];
    // The usual case, one open queue with no allowance below max: one range read, no merging
    // and no per-queue bookkeeping per row.
    const only = open.length === 1 ? open[0]! : undefined;
    const claimed = only !== undefined && (allowances[only] ?? max) >= max ? this.claimFrom(only, max, now) : this.claimMerged(open, max, now, allowances);
    this.mark(claimed, now, leaseMs, startNow);
    return claimed;
  }

  /** Claims up to `max` due jobs of one queue, in claim order, at most one per group key. */
  private claimFrom(queue: string, max: number, now: number): Job[] {
    const select = this.statement(SQL.selectCandidates);
    const keysInBatch = new Set<string>();
    const claimed: Job[] = [];
    for (;;) {
      // Rows taken earlier in this claim are not marked yet, so they come back first: skip them.
      const taken = claimed.length;
      const limit = max + 4;
      const rows = select.all(now, limit, queue) as (JobRow & { held: number })[];
      for (let i = taken; i < rows.length && claimed.length < max; i++) {
        const row = rows[i]!;
        if (this.parkedBehindItsKey(row, keysInBatch)) continue;
        row.attempts += 1; // the attempt it will be (counted now, or when it starts)
        claimed.push(rowToJob(row, queue));
      }
      // A full page is read again (past the rows parked meanwhile) while more may be taken.
      if (claimed.length === max || rows.length < limit) return claimed;
    }
  }

  /**
   * A job waiting behind another of its key (held by a running or retrying job, or taken
   * earlier in this batch) is parked: it leaves the claim index, so the next claims do not
   * step over it again. False for a job that may be claimed (its key is then taken).
   */
  private parkedBehindItsKey(row: JobRow & { held: number }, keysInBatch: Set<string>): boolean {
    if (row.group_key === null) return false;
    if (row.held || keysInBatch.has(row.group_key)) {
      this.statement(SQL.park).run(row.id);
      return true;
    }
    keysInBatch.add(row.group_key);
    return false;
  }

  /** Claims from several queues (or under allowances): each queue's page read, then merged in claim order. */
  private claimMerged(open: readonly string[], max: number, now: number, allowances: Readonly<Record<string, number>>): Job[] {
    const select = this.statement(SQL.selectCandidatesToMerge);
    // queue → how many more of its jobs this claim may take
    const left = new Map<string, number>();
    for (const queue of open) {
      const n = Math.min(max, allowances[queue] ?? max);
      if (n > 0) left.set(queue, n);
    }
    const keysInBatch = new Set<string>();
    const taken = new Map<string, number>(); // per queue: rows taken (still waiting until marked below)
    const ids = new Set<string>();
    const claimed: Job[] = [];
    while (claimed.length < max && left.size > 0) {
      const rows: (JobRow & { held: number; queue: string })[] = [];
      const full = new Set<string>();
      for (const [queue, n] of left) {
        // Rows taken earlier in this claim are not marked yet, so they come back first: skip them.
        const limit = (taken.get(queue) ?? 0) + Math.min(n, max - claimed.length) + 4;
        const page = select.all(now, limit, queue) as (JobRow & { held: number; queue: string })[];
        if (page.length === limit) full.add(queue);
        for (const row of page) {
          row.queue = queue;
          rows.push(row);
        }
      }
      if (left.size > 1) rows.sort(inClaimOrder);
      for (const row of rows) {
        if (claimed.length === max) break;
        const n = left.get(row.queue) ?? 0;
        if (n === 0 || ids.has(row.id)) continue;
        if (this.parkedBehindItsKey(row, keysInBatch)) continue;
        row.attempts += 1; // the attempt it will be (counted now, or when it starts)
        ids.add(row.id);
        claimed.push(rowToJob(row));
        left.set(row.queue, n - 1);
        taken.set(row.queue, (taken.get(row.queue) ?? 0) + 1);
      }
      // A queue whose page was not full has nothing more to give now; a full one is read again
      // (past the rows parked meanwhile) while it may take more.
      for (const [queue, n] of [...left]) if (n === 0 || !full.has(queue)) left.delete(queue);
    }
    return claimed;
  }

  /** Leases the claimed jobs: the first `startNow` start now (their attempt counts), the rest are claimed ahead. */
  private mark(claimed: readonly Job[], now: number, leaseMs: number, startNow: number): void {
    const list = claimed.map((job) => job.id);
    const starting = Math.max(0, startNow);
    if (starting > 0 && list.length > 0) this.statement(SQL.markRunning).run(JSON.stringify(list.slice(0, starting)), now, now + leaseMs, this.db.ownerId);
    if (list.length > starting) this.statement(SQL.markClaimedAhead).run(JSON.stringify(list.slice(starting)), now, now + leaseMs, this.db.ownerId);
  }

  /**
   * Marks successes without a result that finished in the same millisecond with one statement
   * per millisecond (markSucceededTogether), where every one of them applies; returns those
   * outcomes, applied already. The rest are left to settle() one by one.
   */
  private succeedTogether(outcomes: readonly Outcome[]): Set<Outcome> {
    const byTime = new Map<number, Outcome[]>();
    for (const outcome of outcomes) {
      if (outcome.kind !== "succeeded" || !isPlain(outcome.result)) continue;
      const group = byTime.get(outcome.at);
      if (group) group.push(outcome);
      else byTime.set(outcome.at, [outcome]);
    }
    const together = new Set<Outcome>();
    for (const [at, group] of byTime) {
      if (group.length < 2) continue; // one job: its own statement is cheaper than a savepoint
      this.statement(SQL.savepointTogether).run();
      const ids = JSON.stringify(group.map((outcome) => outcome.job.id));
      const all = this.statement(SQL.markSucceededTogether).run(ids, this.db.ownerId, at).changes === group.length;
      if (!all) this.statement(SQL.rollBackTogether).run();
      this.statement(SQL.releaseTogether).run();
      if (all) for (const outcome of group) together.add(outcome);
    }
    return together;
  }

  /** Applies one outcome (unless succeedTogether did); false when the job is no longer this owner's running attempt. */
  private settle(outcome: Outcome, succeeded: string[], together: ReadonlySet<Outcome>): boolean {
    const applied = together.has(outcome) || this.applyOutcome(outcome);
    if (applied && outcome.kind === "succeeded") succeeded.push(outcome.job.queue);
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
        return this.statement(SQL.markFailed).run(job.id, owner, outcome.error, outcome.retryAt, outcome.at, attemptEntry(outcome, owner)).changes > 0;
      case "dead": {
        const changed = this.statement(SQL.markDead).run(job.id, owner, outcome.error, outcome.at, attemptEntry(outcome, owner)).changes > 0;
        const letter = changed ? deadLetterFor(job, outcome.error, outcome.deadLetterType) : null;
        if (letter) this.insert(letter);
        return changed;
      }
      case "released":
        return this.statement(SQL.markReleased).run(job.id, owner, outcome.at, outcome.requeue?.runAt ?? outcome.at, outcome.requeue ? 1 : 0, attemptEntry(outcome, owner)).changes > 0;
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

/** A success with nothing to store but its time (what markSucceededTogether writes). */
function isPlain(result: Result): boolean {
  return result.output === undefined && result.url == null && result.mime == null && result.sizeBytes == null;
}

/** Claim order: higher priority, then earlier run_at, then id. */
function inClaimOrder(a: { priority: number; run_at?: number; id: string }, b: { priority: number; run_at?: number; id: string }): number {
  return b.priority - a.priority || (a.run_at ?? 0) - (b.run_at ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * A filter to dead/cancelled or to running jobs reads the partial index of those states
 * (bounded by how many there are) instead of walking a table of a million finished jobs.
 */
function statusIndexFor(query: ListQuery): ListSource | undefined {
  for (const group of query.where) {
    if (group.length !== 1 || group[0]!.field !== "status" || (group[0]!.op !== "eq" && group[0]!.op !== "in")) continue;
    const values = [group[0]!.value].flat();
    if (values.every((v) => v === "dead" || v === "cancelled")) return { from: SQL.troubledStatuses, condition: "status IN ('dead', 'cancelled')" };
    if (values.every((v) => v === "running")) return { from: SQL.runningStatuses, condition: "status IN ('running', 'failed')" };
  }
  return undefined;
}
