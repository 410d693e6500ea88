// Every attempt of a job, kept on its own row as it goes (Oban's `errors` array is the model):
// an attempt that did not succeed — failed, dead, interrupted by a lapsed lease, or put back
// by a shutdown after its handler had started — appends one JSON entry to the row's
// `attempts_log` in the same statement (and commit) that settles it. A succeeded attempt
// appends nothing: it is the row itself (attempts, started_at, completed_at, and the worker
// that ran it), so the hot path — a job that succeeds at once — writes not one byte more.
// The history is pruned and deleted with its job, since it lives on the job.
import type { Outcome } from "./queue.ts";
import type { AttemptOutcome, AttemptRecord, JobStatus } from "./types.ts";

/** A stack longer than this is cut: it is for a person reading, and it sits on the job row. */
const STACK_LIMIT = 8_000;

/** The log entry an outcome appends (JSON text), or null when it appends none. */
export function attemptEntry(outcome: Outcome, worker: string): string | null {
  if (outcome.kind === "succeeded") return null;
  // A put-back attempt is history only if its handler ran (a shutdown cut it short); a job put
  // back before it started, or by a worker without its handler, spent no attempt.
  if (outcome.kind === "released" && outcome.startedAt === undefined) return null;
  const kind: AttemptOutcome = outcome.kind !== "released" && outcome.interrupted ? "interrupted" : outcome.kind;
  const startedAt = outcome.startedAt ?? null;
  const stack = "stack" in outcome && outcome.stack ? outcome.stack.slice(0, STACK_LIMIT) : null;
  return JSON.stringify({
    attempt: outcome.job.attempt,
    started_at: startedAt,
    finished_at: outcome.at,
    outcome: kind,
    error: "error" in outcome ? outcome.error : "worker shutting down",
    stack,
    worker,
  });
}

/** Appends an entry to a stored log (JSON array text or null), as the SQL and Lua do. */
export function appendEntry(log: string | null | undefined, entry: string): string {
  return log ? `${log.slice(0, -1)},${entry}]` : `[${entry}]`;
}

/** What a row holds that the history is read from. */
export interface HistorySource {
  status: JobStatus;
  attempts: number;
  attemptStarted: boolean;
  startedAt: number | null;
  completedAt: number | null;
  worker: string | null;
  log: string | null | undefined;
}

/** The whole history: the logged attempts, then the succeeded or running one the row itself is. */
export function attemptHistory(row: HistorySource): AttemptRecord[] {
  const history: AttemptRecord[] = [];
  for (const e of parseLog(row.log)) {
    history.push({
      attempt: Number(e.attempt), startedAt: e.started_at ?? null, finishedAt: e.finished_at ?? null,
      durationMs: e.started_at != null && e.finished_at != null ? Math.max(0, e.finished_at - e.started_at) : null,
      outcome: e.outcome, error: e.error ?? null, stack: e.stack ?? null, worker: e.worker ?? null,
    });
  }
  const current = row.status === "succeeded" ? "succeeded" : row.status === "running" && row.attemptStarted ? "running" : null;
  if (current && row.attempts > 0) {
    const finishedAt = current === "succeeded" ? row.completedAt : null;
    history.push({
      attempt: row.attempts, startedAt: row.startedAt, finishedAt,
      durationMs: row.startedAt !== null && finishedAt !== null ? Math.max(0, finishedAt - row.startedAt) : null,
      outcome: current, error: null, stack: null, worker: row.worker,
    });
  }
  return history;
}

interface LogEntry {
  attempt: number;
  started_at?: number | null;
  finished_at?: number | null;
  outcome: AttemptOutcome;
  error?: string | null;
  stack?: string | null;
  worker?: string | null;
}

function parseLog(log: string | null | undefined): LogEntry[] {
  if (!log) return [];
  try {
    const parsed = JSON.parse(log) as unknown;
    return Array.isArray(parsed) ? (parsed as LogEntry[]) : [];
  } catch {
    return []; // a damaged log must not make the job unreadable
  }
}
