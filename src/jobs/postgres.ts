// The job queue on PostgreSQL (Bun's built-in Bun.SQL), for a chain that outgrows one box:
// many worker processes on one queue. Same semantics as the SQLite queue, enforced by the
// database across processes:
// - claims take rows with FOR UPDATE SKIP LOCKED, so two workers never claim the same job;
// - a group key is taken with a transaction-scoped advisory lock, then checked against the
//   committed holders, so two processes never run two jobs of one key at once;
// - leases expire across nodes: a dead process's jobs are taken over by the others;
// - enqueue can join a caller's Bun.SQL transaction (pass it as the second argument), and
//   wakes idle workers everywhere with NOTIFY, delivered on commit;
// - an instance with a partition claims only that partition's jobs (a till's, whose handlers
//   read its own file), while reads, cancel and retry see them all.
// Every statement, with the index that serves it, is in postgres-sql.ts.
import type { SQL } from "bun";
import { monotonicFactory } from "../ulid.ts";
import { systemClock, type Clock } from "../clock.ts";
import type { ListQuery } from "../db/list-query.ts";
import { AvailabilitySignal } from "./availability.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord } from "./new-job.ts";
import { listRowsPostgres } from "./postgres-list.ts";
import { postgresMigrationSql } from "./postgres-schema.ts";
import { postgresStatements, type PostgresStatements } from "./postgres-sql.ts";
import { attemptEntry } from "./attempt-history.ts";
import { MAX_REQUEUES, type CancelResult, type Cancellable, type ClaimOptions, type Deletable, type DeleteResult, type Outcome, type Prunable, type Queue, type QueueControl, type QueueState, type Retryable, type RetryResult, type Source, type StateCount, type StatusReader } from "./queue.ts";
import { mergeQueueStates } from "./queue-states.ts";
import { rowToJob, rowToState, type JobRow, type StateRow } from "./rows.ts";
import { STATUS_COLUMNS, type StatusRow } from "./status-columns.ts";
import type { Job, JobState, NewJob } from "./types.ts";

export interface PostgresQueueOptions {
  sql: SQL;
  /** Table name (a plain identifier). Default "backroom_jobs". */
  table?: string;
  /**
   * Jobs this instance enqueues carry its partition, and it claims (and takes over) only jobs of
   * that partition — for handlers that need local state, like a till's orders. Reads, cancel
   * and retry see every partition. Default "" (shared by all instances without one).
   */
  partition?: string;
  clock?: Clock;
  /**
   * Where the job events go in each settle's own transaction (the events' outbox on this
   * database, src/events/postgres-outbox.ts): the worker's ClaimOptions.inTransaction runs inside
   * `keepDuring`. Without it the worker records those events after the settle commits.
   */
  eventOutbox?: SettleOutbox;
}

/** Writes that must commit with a settle: `during` runs synchronously, and what it kept is written on `tx`. */
export interface SettleOutbox {
  keepDuring(during: () => void, tx: SQL): Promise<void>;
}

export class PostgresQueue implements Queue, Source, Cancellable, Retryable, StatusReader, Prunable, Deletable, QueueControl {
  readonly transactionalEnqueue = true;
  readonly ownerId = monotonicFactory()();
  private readonly sql: SQL;
  private readonly table: string;
  private readonly channel: string;
  private readonly partition: string;
  private readonly q: PostgresStatements;
  private readonly clock: Clock;
  private readonly eventOutbox: SettleOutbox | null;
  private readonly nextId = monotonicFactory();
  private readonly available = new AvailabilitySignal();
  private unlisten: Promise<{ unlisten(): Promise<void> }> | null = null;
  private listeners = 0;

  constructor(options: PostgresQueueOptions) {
    this.sql = options.sql;
    this.table = options.table ?? "backroom_jobs";
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(this.table)) throw new Error(`table must be a plain lower-case identifier, got "${this.table}"`);
    this.channel = `${this.table}_available`;
    this.q = postgresStatements(this.table);
    this.partition = options.partition ?? "";
    if (this.partition.length > 200) throw new Error("partition must be at most 200 characters");
    this.clock = options.clock ?? systemClock;
    this.eventOutbox = options.eventOutbox ?? null;
  }

  /** Creates the table and indexes if missing (idempotent; serialised across processes). */
  async migrate(): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx.unsafe(`SELECT pg_advisory_xact_lock(hashtextextended('backroom-migrate-${this.table}', 0))`);
      await tx.unsafe(postgresMigrationSql(this.table));
    });
  }

  // ── Queue ───────────────────────────────────────────────────────────────────────────────

  /** Adds a job; pass a Bun.SQL transaction to enqueue atomically with the caller's writes. */
  async enqueue(job: NewJob, tx?: SQL): Promise<string> {
    const id = await this.insert(job, tx ?? this.sql);
    // Committed already when no transaction was given: wake local workers without waiting for
    // the NOTIFY round trip (inside a transaction, the NOTIFY at commit does it).
    if (!tx) this.available.notify();
    return id;
  }

  enqueueAt(at: number | Date, job: NewJob, tx?: SQL): Promise<string> {
    return this.enqueue({ ...job, notBefore: at }, tx);
  }

  async enqueueMany(jobs: readonly NewJob[], tx?: SQL): Promise<string[]> {
    const now = this.clock.now();
    jobs.forEach((job) => toJobRecord(job, "check", now)); // all valid, or nothing is sent
    const run = async (t: SQL) => {
      const ids: string[] = [];
      for (const job of jobs) ids.push(await this.insert(job, t));
      return ids;
    };
    if (tx) return run(tx);
    const ids = await this.sql.begin(run);
    this.available.notify();
    return ids;
  }

  // ── Source ──────────────────────────────────────────────────────────────────────────────

  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options: ClaimOptions = {}): Promise<{ claimed: Job[]; applied: Outcome[] }> {
    const started = options.started ?? [];
    if (outcomes.length === 0 && max <= 0 && started.length === 0) return Promise.resolve({ claimed: [], applied: [] });
    return this.sql.begin(async (tx) => {
      if (started.length > 0) await tx.unsafe(this.q.markStarted, [started, this.clock.now(), this.ownerId]);
      const applied: Outcome[] = [];
      const succeeded = new Map<string, number>();
      for (const outcome of outcomes) if (await this.settle(tx, outcome, succeeded)) applied.push(outcome);
      for (const [queue, n] of succeeded) await tx.unsafe(this.q.countSucceeded, [queue, this.ownerId, n]);
      const claimed = max > 0 ? await this.claim(tx, max, leaseMs, options.startNow ?? max, options.queueAllowances ?? {}) : [];
      // The transitions' events commit with them (or roll back with them): a kill -9 after the
      // commit cannot lose them, as it could if they were written anywhere after it.
      const record = options.inTransaction;
      if (record && this.eventOutbox) await this.eventOutbox.keepDuring(() => record(applied, claimed), tx);
      return { applied, claimed };
    });
  }

  async extendLeases(ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.unsafe(this.q.extendLeases, [this.clock.now() + leaseMs, ids, this.ownerId]);
  }

  async takeExpired(leaseMs: number): Promise<Job[]> {
    const now = this.clock.now();
    const released = (await this.sql.unsafe(this.q.releaseExpiredUnstarted, [now, this.partition, MAX_REQUEUES])) as unknown[];
    if (released.length > 0) await this.notifyAll();
    const rows = (await this.sql.unsafe(this.q.takeExpired, [this.ownerId, now, now + leaseMs, this.partition])) as JobRow[];
    return rows.map((row) => rowToJob(row));
  }

  async nextDueAt(after: number): Promise<number | null> {
    const [row] = (await this.sql.unsafe(this.q.nextDueAt, [after, this.partition])) as { at: number | null }[];
    return row?.at ?? null;
  }

  /** Wakes on NOTIFY from any process's enqueue (and on local changes). */
  onAvailable(listener: () => void): () => void {
    const off = this.available.subscribe(listener);
    if (this.listeners++ === 0) this.listen();
    return () => {
      off();
      if (--this.listeners === 0) void this.unlisten?.then((l) => l.unlisten()).catch(() => {});
    };
  }

  /**
   * LISTENs for other processes' NOTIFY. While the server cannot be reached the attempt is
   * repeated every second (a rejected LISTEN must not take the process down); local wake-ups
   * and the worker's own polling go on meanwhile.
   */
  private listen(): void {
    const attempt = this.sql.listen(this.channel, () => this.available.notify()) as Promise<{ unlisten(): Promise<void> }>;
    this.unlisten = attempt;
    attempt.catch(() => {
      if (this.unlisten !== attempt) return;
      this.unlisten = null;
      setTimeout(() => {
        if (this.listeners > 0 && this.unlisten === null) this.listen();
      }, 1_000).unref();
    });
  }

  // ── Cancellable, Retryable, StatusReader, Prunable ──────────────────────────────────────

  async cancel(id: string): Promise<CancelResult> {
    const rows = (await this.sql.unsafe(this.q.cancel, [id, this.clock.now()])) as unknown[];
    if (rows.length > 0) {
      await this.notifyAll();
      return "cancelled";
    }
    const [row] = (await this.sql.unsafe(this.q.statusOf, [id])) as { status: string }[];
    return !row ? "not_found" : row.status === "running" ? "running" : "finished";
  }

  async retry(id: string): Promise<RetryResult> {
    const rows = (await this.sql.unsafe(this.q.retryDead, [id, this.clock.now()])) as unknown[];
    if (rows.length > 0) {
      await this.notifyAll();
      return "retried";
    }
    const [row] = (await this.sql.unsafe(this.q.statusOf, [id])) as unknown[];
    return row ? "not_dead" : "not_found";
  }

  async getStatus(id: string): Promise<JobState | null> {
    const [row] = (await this.sql.unsafe(this.q.state, [id])) as StateRow[];
    return row ? rowToState(row) : null;
  }

  async stateCounts(): Promise<StateCount[]> {
    return (await this.sql.unsafe(this.q.stateCounts)) as StateCount[];
  }

  /** stateCounts for this instance's partition only: each process reports its own, so they add up. */
  async partitionStateCounts(): Promise<StateCount[]> {
    return (await this.sql.unsafe(this.q.partitionStateCounts, [this.partition])) as StateCount[];
  }

  listStatuses(query: ListQuery): Promise<{ rows: StatusRow[]; total: number }> {
    return listRowsPostgres<StatusRow>(this.sql, this.table, STATUS_COLUMNS, query);
  }

  async pruneFinished(statuses: readonly string[], before: number, limit: number): Promise<number> {
    return this.sql.begin(async (tx) => {
      const rows = (await tx.unsafe(this.q.pruneFinished, [statuses, before, limit, this.partition])) as { queue: string; status: string }[];
      await this.uncount(tx, rows);
      return rows.length;
    });
  }

  async delete(id: string): Promise<DeleteResult> {
    const deleted = await this.sql.begin(async (tx) => {
      const rows = (await tx.unsafe(this.q.deleteFinished, [id])) as { queue: string; status: string }[];
      await this.uncount(tx, rows);
      return rows.length > 0;
    });
    if (deleted) return "deleted";
    const [row] = (await this.sql.unsafe(this.q.statusOf, [id])) as unknown[];
    return row ? "not_finished" : "not_found";
  }

  // ── QueueControl: the pause is a row every process's claim reads ─────────────────────────

  async setQueuePaused(name: string, paused: boolean, ifUnset = false): Promise<void> {
    await this.sql.unsafe(ifUnset ? this.q.declarePaused : this.q.setPaused, [name, paused, this.clock.now()]);
    if (paused) return;
    this.available.notify(); // this process's workers, without waiting for the NOTIFY round trip
    await this.notifyAll();
  }

  async queueStates(): Promise<QueueState[]> {
    const [paused, counts] = await Promise.all([this.sql.unsafe(this.q.queueStates), this.sql.unsafe(this.q.queueCounts)]);
    return mergeQueueStates(paused as { name: string; paused: boolean }[], counts as { queue: string; status: string; n: number }[]);
  }

  /** Deleted succeeded jobs come off their queue's count (this process's share of it). */
  private async uncount(tx: SQL, rows: readonly { queue: string; status: string }[]): Promise<void> {
    const succeeded = new Map<string, number>();
    for (const row of rows) if (row.status === "succeeded") succeeded.set(row.queue, (succeeded.get(row.queue) ?? 0) + 1);
    for (const [queue, n] of succeeded) await tx.unsafe(this.q.countSucceeded, [queue, this.ownerId, -n]);
  }

  // ── Adopt, for the forwarding queue ────────────────────────────────────────────────────

  /**
   * Stores jobs that were enqueued elsewhere (a till's SQLite outbox) as they are: same id,
   * times, attempts and state, in this instance's partition — one statement, one commit. A row
   * whose id (or unfinished unique key) is here already is skipped, so copying twice after a
   * crash is harmless. Returns the ids stored now.
   */
  async adopt(rows: readonly StateRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const stored = (await this.sql.unsafe(this.q.adopt, [JSON.stringify(rows), this.partition, this.channel])) as { id: string }[];
    return stored.map((r) => r.id);
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  private async insert(job: NewJob, sql: SQL): Promise<string> {
    const now = this.clock.now();
    const r = toJobRecord(job, this.nextId(now), now);
    const rows = (await sql.unsafe(this.q.insert, [
      r.id, r.type, r.payload, r.headers, r.priority, r.maxRetry, r.runAt, r.groupKey, r.uniqueKey, r.traceId, r.actorId, r.tenantId, r.timeoutMs, r.createdAt, this.channel, this.partition, r.queue,
    ])) as { id: string }[];
    if (rows[0]) return rows[0].id;
    const [existing] = (await sql.unsafe(this.q.unfinishedByUniqueKey, [r.uniqueKey])) as { id: string }[];
    if (!existing) throw new Error(`enqueue of "${r.type}" conflicted on unique key ${r.uniqueKey} and found no holder; retry`);
    return existing.id;
  }

  /**
   * Claims up to `max` due jobs, inside the caller's transaction, from the queues that are not
   * paused (each at most its allowance), in claim order across them. Rows are locked with SKIP
   * LOCKED; each group key is taken with an advisory lock held until commit and then — in a
   * later statement, so with a later snapshot — checked against committed holders (running,
   * or failed and waiting for its retry).
   */
  private async claim(tx: SQL, max: number, leaseMs: number, startNow: number, allowances: Readonly<Record<string, number>>): Promise<Job[]> {
    const now = this.clock.now();
    const open = (await tx.unsafe(this.q.openQueues, [this.partition])) as { queue: string }[];
    const left = new Map<string, number>();
    for (const { queue } of open) {
      const n = Math.min(max, allowances[queue] ?? max);
      if (n > 0) left.set(queue, n);
    }
    const candidates: { id: string; group_key: string | null; queue: string; priority: number; run_at: number }[] = [];
    for (const [queue, n] of left) candidates.push(...((await tx.unsafe(this.q.claimCandidates, [now, n * 4 + 8, this.partition, queue])) as typeof candidates));
    if (left.size > 1) candidates.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || (a.id < b.id ? -1 : 1));
    const chosen: string[] = [];
    const keys = new Set<string>();
    for (const c of candidates) {
      if (chosen.length === max) break;
      const n = left.get(c.queue) ?? 0;
      if (n === 0) continue;
      if (c.group_key !== null) {
        if (keys.has(c.group_key)) continue; // one job per key per claim
        const [lock] = (await tx.unsafe(this.q.groupKeyLock, [c.group_key])) as { locked: boolean }[];
        if (!lock?.locked) continue; // another claim is taking this key right now
        const [holder] = (await tx.unsafe(this.q.groupKeyHeld, [c.group_key, c.id])) as { held: boolean }[];
        if (!holder || holder.held) continue;
        keys.add(c.group_key);
      }
      chosen.push(c.id);
      left.set(c.queue, n - 1);
    }
    if (chosen.length === 0) return [];
    const rows = (await tx.unsafe(this.q.markRunning, [chosen, now, now + leaseMs, this.ownerId, chosen.slice(0, Math.max(0, startNow))])) as (JobRow & { attempt_started: number })[];
    const order = new Map(chosen.map((id, i) => [id, i]));
    // A job claimed ahead is told the attempt it will be once it starts.
    return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!).map((row) => ({ ...rowToJob(row), attempt: row.attempts + 1 - row.attempt_started }));
  }

  private async settle(tx: SQL, outcome: Outcome, succeeded: Map<string, number>): Promise<boolean> {
    const { job } = outcome;
    const entry = attemptEntry(outcome, this.ownerId);
    let rows: unknown[];
    switch (outcome.kind) {
      case "succeeded": {
        const { output, url, mime, sizeBytes } = outcome.result;
        rows = await tx.unsafe(this.q.markSucceeded, [job.id, this.ownerId, output === undefined ? null : JSON.stringify(output), url ?? null, mime ?? null, sizeBytes ?? null, outcome.at]);
        for (const row of rows as { queue: string }[]) succeeded.set(row.queue, (succeeded.get(row.queue) ?? 0) + 1);
        break;
      }
      case "failed":
        rows = await tx.unsafe(this.q.markFailed, [job.id, this.ownerId, outcome.error, outcome.retryAt, outcome.at, entry]);
        break;
      case "dead":
        rows = await tx.unsafe(this.q.markDead, [job.id, this.ownerId, outcome.error, outcome.at, entry]);
        if (rows.length > 0) {
          const letter = deadLetterFor(job, outcome.error, outcome.deadLetterType);
          if (letter) await this.insert(letter, tx);
        }
        break;
      case "released":
        rows = await tx.unsafe(this.q.markReleased, [job.id, this.ownerId, outcome.at, outcome.requeue?.runAt ?? outcome.at, outcome.requeue ? 1 : 0, entry]);
        break;
    }
    // A finished job may free its group key for a waiting one — in any process.
    if (rows.length > 0 && outcome.kind !== "failed" && job.groupKey !== null) await tx.unsafe(this.q.notify, [this.channel]);
    return rows.length > 0;
  }

  private async notifyAll(): Promise<void> {
    await this.sql.unsafe(this.q.notify, [this.channel]);
  }
}
