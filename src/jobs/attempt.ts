// One attempt of a job's handler: isolated (a throw, a rejection or a hang fails this attempt
// only) and bounded by a deadline. Cheap on the hot path: no timer and no AbortController per
// job — one DeadlineWatch timer serves every running attempt, and the signal is only created
// if the handler asks for it.
import { errorMessage, type Logger } from "../log.ts";
import type { Job, Result } from "./types.ts";

export interface JobContext {
  /** Aborted when the attempt times out or shutdown's grace period ends. */
  readonly signal: AbortSignal;
  /** The attempt's time budget: its job's timeout, or the worker's default. */
  readonly timeoutMs: number;
  readonly attempt: number;
  readonly traceId: string | null;
  readonly logger: Logger;
}

export interface Handler {
  (job: Job, context: JobContext): Result | void | Promise<Result | void>;
  /**
   * The handler keeps `context.timeoutMs` itself, counted from when its work starts rather than
   * from the claim: a sandboxed handler first waits for a free thread (sandbox-pool.ts), and that
   * wait is not the job's time. The attempt then sets no deadline of its own; shutdown still
   * aborts it through the signal.
   */
  readonly timesItself?: boolean;
}

export type AttemptResult = { ok: true; result: Result } | { ok: false; error: string; permanent: boolean; stack: string | null };

/** Thrown by a handler when retrying cannot help (the thing it works on is gone): the job is dead at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

export class Attempt {
  readonly done: Promise<AttemptResult>;
  private finish!: (result: AttemptResult) => void;
  private finished = false;
  private controller: AbortController | null = null;
  private abortReason: Error | null = null;

  /** performance.now() when the handler started: the attempt history's start is derived from it only when needed. */
  readonly started = performance.now();
  readonly deadline: number;

  constructor(
    readonly job: Job,
    handler: Handler,
    readonly timeoutMs: number,
    logger: Logger,
  ) {
    this.deadline = handler.timesItself ? Infinity : this.started + timeoutMs;
    this.done = new Promise((resolve) => (this.finish = resolve));
    const attempt = this;
    const context: JobContext = {
      get signal() {
        return attempt.signal();
      },
      timeoutMs,
      attempt: job.attempt,
      traceId: job.traceId,
      logger,
    };
    try {
      const value = handler(job, context);
      if (value && typeof (value as Promise<unknown>).then === "function") {
        (value as Promise<Result | void>).then(
          (result) => this.succeed(result),
          (error) => this.fail(errorMessage(error), error instanceof PermanentJobError, stackOf(error)),
        );
      } else this.succeed(value as Result | void);
    } catch (error) {
      this.fail(errorMessage(error), error instanceof PermanentJobError, stackOf(error));
    }
  }

  /** When the handler started on a clock that reads `now` at this moment (no clock read per attempt on the hot path). */
  startedAt(now: number): number {
    return Math.round(now - (performance.now() - this.started));
  }

  /** Ends the attempt as failed now (timeout, shutdown); a later result is ignored. */
  abort(reason: Error): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.fail(reason.message);
  }

  private signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortReason) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  private succeed(result: Result | void): void {
    const value = result ?? {};
    if (value.output !== undefined && !isJsonSerialisable(value.output)) return this.fail("handler returned an output that is not JSON-serialisable");
    if (this.finished) return;
    this.finished = true;
    this.finish({ ok: true, result: value });
  }

  private fail(error: string, permanent = false, stack: string | null = null): void {
    if (this.finished) return;
    this.finished = true;
    this.finish({ ok: false, error, permanent, stack });
  }
}

/** Times out attempts whose deadline passed, with one timer set for the earliest deadline. */
export class DeadlineWatch {
  private timer: Timer | null = null;
  private armedFor = Infinity;

  constructor(private readonly attempts: () => Iterable<Attempt>) {}

  /** Call when an attempt starts. */
  watch(attempt: Attempt): void {
    if (attempt.deadline < this.armedFor) this.arm(attempt.deadline);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.check(), Math.max(0, at - performance.now()));
  }

  private check(): void {
    this.timer = null;
    this.armedFor = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const attempt of this.attempts()) {
      if (attempt.deadline <= now) attempt.abort(new Error(`timed out after ${attempt.timeoutMs} ms`));
      else next = Math.min(next, attempt.deadline);
    }
    if (next < Infinity) this.arm(next);
  }
}

function stackOf(error: unknown): string | null {
  return error instanceof Error && typeof error.stack === "string" ? error.stack : null;
}

function isJsonSerialisable(value: unknown): boolean {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}
