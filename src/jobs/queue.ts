// The seam between the worker and a queue engine (SQLite, in-memory, later PostgreSQL).
// Each adapter implements these interfaces and passes test/jobs/conformance.ts.
//
// Methods may answer synchronously (SQLite, memory) or with a promise (network engines);
// callers that are generic over adapters always `await`.
import type { ListQuery } from "../db/list-query.ts";
import type { StatusRow } from "./status-columns.ts";
import type { Job, JobState, JobStatus, NewJob, Result } from "./types.ts";

export type Awaitable<T> = T | Promise<T>;

export interface Queue {
  /**
   * Whether enqueue can join the caller's database transaction, so that a rollback leaves no
   * job (SQLite, PostgreSQL). When false, an enqueue is kept whatever the caller's transaction
   * does: enqueue after the commit.
   */
  readonly transactionalEnqueue: boolean;
  /** Adds a job and returns its id (or the id of the unfinished job with the same uniqueKey). */
  enqueue(job: NewJob): Awaitable<string>;
  /** Shortcut for `enqueue({ ...job, notBefore: at })`. */
  enqueueAt(at: number | Date, job: NewJob): Awaitable<string>;
  /** Adds all jobs atomically: either every one is stored or none is. */
  enqueueMany(jobs: readonly NewJob[]): Awaitable<string[]>;
}

/**
 * How an attempt ended, as the worker reports it back to the source. `startedAt`: when its
 * handler started (absent when none ran); `stack`: the error's stack; `interrupted`: the attempt
 * was cut off by a lapsed lease (its worker died or stalled). These go to the attempt history
 * (attempt-history.ts).
 */
export type Outcome =
  | { kind: "succeeded"; job: Job; result: Result; at: number }
  /** Retry scheduled at `retryAt`. */
  | { kind: "failed"; job: Job; error: string; retryAt: number; at: number; startedAt?: number; stack?: string | null; interrupted?: boolean }
  /** Terminal failure; when `deadLetterType` is set a job of that type is enqueued with it. */
  | { kind: "dead"; job: Job; error: string; at: number; deadLetterType?: string | null; startedAt?: number; stack?: string | null; interrupted?: boolean }
  /**
   * Back to enqueued without spending the attempt: shutdown interrupted it, or it never
   * started. `requeue` (no handler for its type here) counts one more of the job's requeues and
   * makes it wait until `runAt`.
   */
  | { kind: "released"; job: Job; at: number; requeue?: { runAt: number }; startedAt?: number };

/**
 * A claim may take more jobs than the worker has free slots (claimed ahead, so a finishing
 * handler's slot is refilled without waiting for a commit). Only an attempt whose handler
 * started may be spent by a crash, so the queue records which claimed jobs started.
 */
export interface ClaimOptions {
  /**
   * How many of the claimed jobs (the first ones, in claim order) start at once: their
   * attempt is counted in the claim's own commit. The rest are claimed ahead: leased, shown
   * `running`, but their attempt is counted only when a later call lists them in `started`.
   * Default: all of them.
   */
  startNow?: number;
  /** Jobs claimed ahead whose handlers have started since: recorded before the outcomes. */
  started?: readonly string[];
  /**
   * Queues with a concurrency limit: queue name → the most of its jobs this call may claim
   * (its limit less the jobs of it the worker holds). Queues not named share `max`. Paused
   * queues are the engine's to know (stored, see QueueControl): it claims none of their jobs.
   */
  queueAllowances?: Readonly<Record<string, number>>;
  /**
   * Called with what was applied and claimed INSIDE the transaction that writes them, by an
   * engine whose transaction can hold the event outbox: SQLite (the app's file: the outbox
   * joins it there) and PostgreSQL when given its own outbox (PostgresQueueOptions.eventOutbox).
   * An engine that cannot (memory, PostgreSQL without one) does not call it; the worker then
   * calls the same after the settle.
   */
  inTransaction?: (applied: readonly Outcome[], claimed: readonly Job[]) => void;
}

/**
 * A job is put back without spending an attempt — taken from a dead or stalled worker before
 * its handler started, or claimed by a worker with no handler for its type — at most this many
 * times in all (the seeds' bound). After that a crash spends an attempt (a handler that kills
 * its process before its start is written cannot loop forever) and a job nobody handles is dead.
 */
export const MAX_REQUEUES = 20;

/** A job no worker here handles is put back this long, for a process that does (a rolling upgrade). */
export const UNHANDLED_REQUEUE_DELAY_MS = 5_000;

/** What a worker claims from. */
export interface Source {
  /**
   * Records the starts of jobs claimed ahead and the outcomes of finished attempts, then
   * claims up to `max` due jobs (respecting priority, not-before and group keys) — in ONE
   * transaction where the engine allows, because engines pay per commit, not per row.
   * Returns the claimed jobs (now `running`; `attempt` is the attempt each will be) and the
   * outcomes that were applied (an outcome for a job no longer running is dropped).
   */
  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options?: ClaimOptions): Awaitable<{ claimed: Job[]; applied: Outcome[] }>;
  /** Pushes the leases of running jobs forward to now + leaseMs, in one write. */
  extendLeases(ids: readonly string[], leaseMs: number): Awaitable<void>;
  /**
   * Takes over running jobs whose lease lapsed or whose owner is gone. Those whose handler
   * never started (claimed ahead) go straight back to waiting without spending an attempt
   * (counted against MAX_REQUEUES) and are not returned; the others are returned, their
   * lease now held by the caller for `leaseMs`, and the caller settles each as a failed
   * attempt: retry or dead.
   */
  takeExpired(leaseMs: number): Awaitable<Job[]>;
  /**
   * The earliest time, strictly after `after`, at which a waiting job becomes due; null if
   * none. The worker passes the time of its last claim, so a job that fell due since then is
   * answered with a time already past (claim again now) rather than missed.
   */
  nextDueAt(after: number): Awaitable<number | null>;
  /** Calls `listener` when jobs may have become claimable (enqueue, retry, cancel). */
  onAvailable(listener: () => void): () => void;
}

export type CancelResult = "cancelled" | "not_found" | "running" | "finished";

/** Cancel applies only to jobs that have not started: enqueued, or failed and waiting to retry. */
export interface Cancellable {
  cancel(id: string): Awaitable<CancelResult>;
}

export type RetryResult = "retried" | "not_found" | "not_dead";

/** Retention: deletes finished jobs (and so their status rows) completed before a time. */
export interface Prunable {
  /** Deletes at most `limit` jobs in one of `statuses` completed before `before`; returns how many. */
  pruneFinished(statuses: readonly ("succeeded" | "dead" | "cancelled")[], before: number, limit: number): Awaitable<number>;
}

/** Puts a dead job back in the queue with fresh attempts (an operator's decision). */
export interface Retryable {
  retry(id: string): Awaitable<RetryResult>;
}

/** Unfinished, dead and cancelled jobs by state and type (succeeded ones are not counted: there may be millions). */
export interface StateCount {
  status: JobStatus;
  type: string;
  n: number;
}

export type DeleteResult = "deleted" | "not_found" | "not_finished";

/** Deletes one finished job (succeeded, dead or cancelled) and its history: an operator's decision. */
export interface Deletable {
  delete(id: string): Awaitable<DeleteResult>;
}

/** A named queue as stored: whether it is paused, and its jobs by status (succeeded ones from a kept count). */
export interface QueueState {
  name: string;
  paused: boolean;
  counts: Record<JobStatus, number>;
}

/**
 * Named queues' run-time state. A paused queue accepts jobs and none of its jobs is claimed,
 * by any worker on the queue, until it is resumed; the pause is stored, so it survives a restart.
 */
export interface QueueControl {
  /**
   * Pauses (true) or resumes (false) a queue, known or not yet (a queue may be paused before its
   * first job). `ifUnset`: only when the queue has no stored state yet (a state declared in code
   * is a first state; one set at run time wins over it).
   */
  setQueuePaused(name: string, paused: boolean, ifUnset?: boolean): Awaitable<void>;
  /** Every queue that has stored state or jobs, by name. */
  queueStates(): Awaitable<QueueState[]>;
}

/** Reads status rows. */
export interface StatusReader {
  /** getStatus answers at once, never with a promise (SQLite): a read route can answer without one too. */
  readonly synchronousReads?: boolean;
  stateCounts(): Awaitable<StateCount[]>;
  getStatus(id: string): Awaitable<JobState | null>;
  /** One page of status rows (storage form: see status-columns.ts) and the number matching. */
  listStatuses(query: ListQuery): Awaitable<{ rows: StatusRow[]; total: number }>;
}

/** One change of a job's status, as a sink receives it. */
export interface StatusChange {
  job: Job;
  status: JobStatus;
  attempts: number;
  error: string | null;
  result: Result | null;
  at: number;
}

/**
 * Receives every status transition the worker makes, after it is durable. Queues that keep
 * the status on the job row (SQLite, memory) need no sink for `job_statuses`; a sink is how
 * other back-ends persist status rows, and how observers (events, metrics, logs) follow jobs.
 */
export interface StatusSink {
  record(changes: readonly StatusChange[]): Awaitable<void>;
  /**
   * A sink whose `record` is synchronous and belongs in the transaction that makes the
   * transitions durable (the event outbox): the worker calls it inside settleAndClaim where the
   * source offers that (ClaimOptions.inTransaction), and right after it elsewhere.
   */
  transactional?: boolean;
}
