// Retry timing: exponential backoff with jitter, as in the seeds (base 1 s, doubling, cap 5 min).
//
// Jitter spreads retries of jobs that failed together (a mail server outage fails hundreds
// at once) so they do not all hit the server again in the same second.

export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** Fraction of the delay that is randomised: 0.2 → delay × [0.9, 1.1). */
  jitter?: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 300_000, jitter: 0.2 } as const;

/** Delay before the retry that follows failed attempt number `attempt` (1-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const capMs = options.capMs ?? DEFAULT_BACKOFF.capMs;
  const jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
  const random = options.random ?? Math.random;
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential * (1 - jitter / 2 + jitter * random());
  return Math.round(Math.min(capMs, jittered));
}

/** After a failed attempt: retry at some time, or dead when attempts are spent. */
export function afterFailure(
  attempt: number,
  maxRetry: number,
  now: number,
  options?: BackoffOptions,
): { status: "failed"; retryAt: number } | { status: "dead" } {
  if (attempt >= maxRetry) return { status: "dead" };
  return { status: "failed", retryAt: now + backoffDelay(attempt, options) };
}
