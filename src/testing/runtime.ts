// Test helpers for teams building their own binary on the library (like Oban.Testing and
// River's rivertest): the in-memory queue, a clock that moves only when told, `drain()` to run
// every due job now, and assertions about what was enqueued.
import { ManualClock } from "../clock.ts";
import type { Handler } from "../jobs/attempt.ts";
import { MemoryQueue } from "../jobs/memory.ts";
import type { JobState, NewJob } from "../jobs/types.ts";
import { Worker } from "../jobs/worker.ts";
import { silentLogger, type Logger } from "../log.ts";

export interface TestRuntimeOptions {
  /** The handlers under test, or a function of the runtime for handlers that enqueue. */
  handlers: Record<string, Handler> | ((runtime: TestRuntime) => Record<string, Handler>);
  /** Default: a clock at 2026-01-01T00:00:00Z that moves only with `advance()`. */
  clock?: ManualClock;
  deadLetterType?: string;
  logger?: Logger;
}

export class EnqueuedAssertionError extends Error {
  override name = "EnqueuedAssertionError";
}

export class TestRuntime {
  readonly clock: ManualClock;
  readonly queue: MemoryQueue;
  private readonly worker: Worker;
  private readonly ids: string[] = [];

  constructor(options: TestRuntimeOptions) {
    this.clock = options.clock ?? new ManualClock();
    this.queue = new MemoryQueue({ clock: this.clock });
    // Record every id the code under test enqueues, in order.
    const enqueue = this.queue.enqueue.bind(this.queue);
    this.queue.enqueue = (job: NewJob) => {
      const id = enqueue(job);
      if (!this.ids.includes(id)) this.ids.push(id);
      return id;
    };
    const enqueueMany = this.queue.enqueueMany.bind(this.queue);
    this.queue.enqueueMany = (jobs) => {
      const ids = enqueueMany(jobs);
      for (const id of ids) if (!this.ids.includes(id)) this.ids.push(id);
      return ids;
    };
    this.worker = new Worker({
      source: this.queue, handlers: typeof options.handlers === "function" ? options.handlers(this) : options.handlers, clock: this.clock, logger: options.logger ?? silentLogger,
      deadLetterType: options.deadLetterType, pollIntervalMs: 3_600_000, concurrency: 1, prefetch: 0,
    }).start();
  }

  /** Runs every job that is due now — and those they enqueue — until nothing is left to run. */
  drain(): Promise<void> {
    return this.worker.whenIdle();
  }

  /** Moves the clock (retries and delayed jobs fall due), then drains. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.drain();
  }

  /** Every job enqueued so far, in order, whatever its state now; optionally of one type. */
  enqueued(type?: string): JobState[] {
    return this.ids.map((id) => this.queue.getStatus(id)!).filter((s) => s && (type === undefined || s.type === type));
  }

  /** The first job of `type` whose payload contains `payload` (a partial match); throws a readable error if none. */
  assertEnqueued(type: string, payload?: unknown): JobState {
    const candidates = this.enqueued(type);
    const match = candidates.find((s) => payload === undefined || contains(s.payload, payload));
    if (match) return match;
    const seen = this.enqueued().map((s) => `  ${s.type} ${JSON.stringify(s.payload)} (${s.status})`).join("\n") || "  (none)";
    throw new EnqueuedAssertionError(`expected a "${type}" job${payload === undefined ? "" : ` with payload containing ${JSON.stringify(payload)}`}; enqueued:\n${seen}`);
  }

  /** Throws if a job of `type` (with a payload containing `payload`) was enqueued. */
  refuteEnqueued(type: string, payload?: unknown): void {
    const match = this.enqueued(type).find((s) => payload === undefined || contains(s.payload, payload));
    if (match) throw new EnqueuedAssertionError(`expected no "${type}" job${payload === undefined ? "" : ` with payload containing ${JSON.stringify(payload)}`}, found ${match.id}`);
  }

  close(): Promise<void> {
    return this.worker.shutdown(1_000);
  }
}

export function createTestRuntime(options: TestRuntimeOptions): TestRuntime {
  return new TestRuntime(options);
}

/** Whether `actual` contains everything in `expected` (objects by key, arrays element-wise). */
function contains(actual: unknown, expected: unknown): boolean {
  if (expected === null || typeof expected !== "object") return Object.is(actual, expected);
  if (actual === null || typeof actual !== "object") return false;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => contains(actual[i], e));
  return Object.entries(expected).every(([k, v]) => contains((actual as Record<string, unknown>)[k], v));
}
