// Named queues as an app declares them: each queue's concurrency limit, optional rate limit,
// and whether it starts paused. Limits are the worker's to enforce (per process: Oban's local
// limit); the pause is stored by the queue engine, so every process and every restart obeys it.
import { QUEUE_NAME } from "./types.ts";

export interface QueueDefinition {
  /** At most this many of the queue's jobs run (or are claimed) at once in a process. Default: no limit of its own (it shares the worker pool). */
  concurrency?: number;
  /**
   * Paused when the app first starts. Only a first state: once the queue has been paused or
   * resumed (REST, CLI, dashboard, or an earlier start), the stored state wins.
   */
  paused?: boolean;
  /** At most `limit` of the queue's jobs start per `intervalMs` in a process (a sliding window). */
  rateLimit?: { limit: number; intervalMs: number };
}

export type QueueDefinitions = Record<string, QueueDefinition>;

/** Checks declared queues once, at start: a mistake stops the app with a clear message. */
export function checkQueueDefinitions(queues: QueueDefinitions): void {
  for (const [name, queue] of Object.entries(queues)) {
    if (!QUEUE_NAME.test(name)) throw new Error(`queue "${name}": a name is 1–64 of a-z 0-9 _ . - starting with a letter or digit`);
    if (queue.concurrency !== undefined && !(Number.isInteger(queue.concurrency) && queue.concurrency >= 1)) throw new Error(`queue "${name}": concurrency must be an integer ≥ 1`);
    if (queue.paused !== undefined && typeof queue.paused !== "boolean") throw new Error(`queue "${name}": paused must be true or false`);
    const rate = queue.rateLimit;
    if (rate !== undefined && !(Number.isInteger(rate.limit) && rate.limit >= 1 && Number.isFinite(rate.intervalMs) && rate.intervalMs > 0)) {
      throw new Error(`queue "${name}": rateLimit needs an integer limit ≥ 1 and an intervalMs > 0`);
    }
  }
}

/**
 * The starts of one rate-limited queue's jobs within the last interval: how many more may
 * start now, and when the next one may if none can.
 */
export class RateWindow {
  private readonly starts: number[] = [];
  constructor(
    readonly limit: number,
    readonly intervalMs: number,
  ) {}

  /** How many more may be claimed at `now`. */
  room(now: number): number {
    while (this.starts.length > 0 && this.starts[0]! <= now - this.intervalMs) this.starts.shift();
    return Math.max(0, this.limit - this.starts.length);
  }

  record(now: number): void {
    this.starts.push(now);
  }

  /** When a slot frees (null if one is free now). */
  nextRoomAt(now: number): number | null {
    return this.room(now) > 0 ? null : this.starts[0]! + this.intervalMs;
  }
}
