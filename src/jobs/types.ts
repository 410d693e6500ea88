// The job model shared by every queue back-end. Names follow the seeds (maniflex) in
// camelCase; the database and the wire use snake_case, converted in one mapper per side.

/**
 * enqueued  → waiting for its first attempt (or its not-before time)
 * running   → an attempt holds a lease
 * succeeded → finished; terminal
 * failed    → an attempt failed and a retry is scheduled at `runAt`; NOT terminal
 * dead      → out of attempts, no handler for the type, or dead-lettered; terminal
 * cancelled → cancelled before it started (or while waiting for a retry); terminal
 */
export type JobStatus = "enqueued" | "running" | "succeeded" | "failed" | "dead" | "cancelled";

export const JOB_STATUSES: readonly JobStatus[] = ["enqueued", "running", "succeeded", "failed", "dead", "cancelled"];
export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "dead", "cancelled"];

/** What a producer passes to `enqueue`. Only `type` is required. */
export interface NewJob {
  type: string;
  payload?: unknown;
  /** Free routing hints or idempotency keys, carried to the handler untouched. */
  headers?: Record<string, string>;
  actorId?: string | null;
  tenantId?: string | null;
  /** The most attempts, first one included. Default 3. */
  maxRetry?: number;
  /** Do not start before this time (epoch ms or Date). */
  notBefore?: number | Date;
  /** At most one job per group key runs at a time. */
  groupKey?: string | null;
  /** A W3C traceparent value, passed to the handler and kept on the status row. */
  traceId?: string | null;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** While a job with this key is unfinished, enqueueing another returns the first one's id. */
  uniqueKey?: string | null;
  /** An attempt running longer than this fails. Default: the worker's `defaultTimeoutMs`. */
  timeoutMs?: number | null;
  /** The named queue it waits in (its own concurrency limit, pausable). Default "default". */
  queue?: string;
}

/** A job as a handler receives it. */
export interface Job {
  id: string;
  type: string;
  payload: unknown;
  headers: Record<string, string>;
  actorId: string | null;
  tenantId: string | null;
  maxRetry: number;
  groupKey: string | null;
  traceId: string | null;
  priority: number;
  uniqueKey: string | null;
  timeoutMs: number | null;
  /** The named queue it belongs to ("default" unless it named another). */
  queue: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** Times the job was put back without its handler running (no handler here, or a crash before it started). */
  requeues: number;
  createdAt: number;
}

/** What a handler may return: a small JSON output and/or a URL to a larger result. */
export interface Result {
  output?: unknown;
  url?: string;
  mime?: string;
  sizeBytes?: number;
}

/** The status row of a job: what `GET /api/job_statuses/:id` shows. Times are epoch ms. */
export interface JobState {
  id: string;
  type: string;
  status: JobStatus;
  queue: string;
  payload: unknown;
  priority: number;
  attempts: number;
  maxRetry: number;
  actorId: string | null;
  tenantId: string | null;
  groupKey: string | null;
  uniqueKey: string | null;
  traceId: string | null;
  error: string | null;
  resultUrl: string | null;
  resultMime: string | null;
  output: unknown;
  /** When it may run next (not-before, or the scheduled retry). */
  runAt: number;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  updatedAt: number;
  /** Every attempt, oldest first (src/jobs/attempt-history.ts): admins only on the wire. */
  attemptsHistory: AttemptRecord[];
}

/** How an attempt ended. `running`: it has not ended yet. */
export type AttemptOutcome = "succeeded" | "failed" | "dead" | "released" | "interrupted" | "running";

/** One attempt of a job, as its history keeps it. Times are epoch ms. */
export interface AttemptRecord {
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  outcome: AttemptOutcome;
  error: string | null;
  stack: string | null;
  /** The queue instance (process) that ran it. */
  worker: string | null;
}

export const DEFAULT_MAX_RETRY = 3;
export const DEFAULT_QUEUE = "default";
/** A queue's name: short, lower-case, safe in a URL, a metric label and a Redis key. */
export const QUEUE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
