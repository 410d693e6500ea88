// The one boundary between snake_case storage rows and camelCase job objects.
import { attemptHistory } from "./attempt-history.ts";
import type { HistoryColumns } from "./status-columns.ts";
import { DEFAULT_QUEUE, type AttemptRecord, type Job, type JobState, type JobStatus } from "./types.ts";

export interface JobRow {
  id: string;
  type: string;
  payload: string;
  headers: string | null;
  actor_id: string | null;
  tenant_id: string | null;
  max_retry: number;
  group_key: string | null;
  trace_id: string | null;
  priority: number;
  unique_key: string | null;
  timeout_ms: number | null;
  attempts: number;
  /** Absent from rows written before the column existed (a forwarded outbox row, say). */
  requeues?: number;
  /** Absent from rows written before named queues (an outbox row of an older till). */
  queue?: string;
  created_at: number;
}

export interface StateRow extends JobRow {
  status: JobStatus;
  run_at: number;
  error: string | null;
  result_url: string | null;
  result_mime: string | null;
  output: string | null;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
  /** The attempt history's log (attempt-history.ts); absent from rows that predate it. */
  attempts_log?: string | null;
  /** The owner of the running attempt, kept after a success as the worker that ran it. */
  claimed_by?: string | null;
  attempt_started?: number;
}

/** `queue`: the queue the caller read the row from (the claim), when the row does not carry it. */
export function rowToJob(row: JobRow, queue = row.queue ?? DEFAULT_QUEUE): Job {
  return {
    id: row.id,
    type: row.type,
    payload: JSON.parse(row.payload),
    headers: row.headers ? JSON.parse(row.headers) : {},
    actorId: row.actor_id,
    tenantId: row.tenant_id,
    maxRetry: row.max_retry,
    groupKey: row.group_key,
    traceId: row.trace_id,
    priority: row.priority,
    uniqueKey: row.unique_key,
    timeoutMs: row.timeout_ms,
    queue,
    attempt: row.attempts,
    requeues: row.requeues ?? 0,
    createdAt: row.created_at,
  };
}

export function rowToState(row: StateRow): JobState {
  return {
    id: row.id,
    type: row.type,
    status: row.status,
    queue: row.queue ?? DEFAULT_QUEUE,
    payload: JSON.parse(row.payload),
    priority: row.priority,
    attempts: row.attempts,
    maxRetry: row.max_retry,
    actorId: row.actor_id,
    tenantId: row.tenant_id,
    groupKey: row.group_key,
    uniqueKey: row.unique_key,
    traceId: row.trace_id,
    error: row.error,
    resultUrl: row.result_url,
    resultMime: row.result_mime,
    output: row.output === null ? null : JSON.parse(row.output),
    runAt: row.run_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    updatedAt: row.updated_at,
    // Parsed when first read: only an admin's view shows it, and a point read is most often
    // the job's own user polling (the log is JSON of every attempt).
    get attemptsHistory() {
      const history = attemptHistoryOf(row);
      Object.defineProperty(this, "attemptsHistory", { value: history, writable: true, enumerable: true, configurable: true });
      return history;
    },
    set attemptsHistory(history: AttemptRecord[]) {
      Object.defineProperty(this, "attemptsHistory", { value: history, writable: true, enumerable: true, configurable: true });
    },
  };
}

export function attemptHistoryOf(row: HistoryColumns): AttemptRecord[] {
  return attemptHistory({
    status: row.status, attempts: row.attempts, attemptStarted: Number(row.attempt_started ?? 1) === 1, startedAt: row.started_at,
    completedAt: row.completed_at, worker: row.claimed_by ?? null, log: row.attempts_log,
  });
}
