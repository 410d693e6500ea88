// One subscriber's delivery queue, shared by every bus engine: asynchronous, in order, a
// throwing handler logged and skipped, a hung one holding up only itself, and bounded (past
// `maxQueued` the oldest events are dropped, with a warning).
//
// An engine with durable delivery passes `settle` with each event: it is called once the
// handler is done with it (returned, or threw and was logged) or the event was dropped — that
// is when the engine acknowledges it to the broker. Never on close: an event still queued or
// being handled when the subscriber stops (or its process dies) stays unacknowledged, and the
// broker delivers it again. At least once, not at most once.
import { errorMessage, type Logger } from "../log.ts";
import type { EventHandler } from "./bus.ts";
import type { Event } from "./event.ts";

/** Events a subscriber may have waiting before the oldest are dropped. */
export const MAX_QUEUED = 10_000;

/**
 * Unacknowledged events a durable subscription takes from its broker at most (queued or in the
 * handler): well under MAX_QUEUED, so a durable subscriber never drops one — the rest wait in
 * the broker, where they survive a crash.
 */
export const MAX_IN_HAND = 1_000;

export class SubscriberQueue {
  private readonly queue: { event: Event; settle?: () => void }[] = [];
  private draining = false;
  private dropped = 0;
  private closed = false;
  private inHand = 0;
  private spaceWaiters: { below: number; resolve: () => void }[] = [];

  constructor(
    readonly pattern: string,
    private readonly handler: EventHandler,
    private readonly logger: Logger,
    private readonly maxQueued = MAX_QUEUED,
  ) {}

  push(event: Event, settle?: () => void): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift()!.settle?.();
      if (this.dropped++ % 1_000 === 0) this.logger.log("warn", "event subscriber too slow; dropping its oldest events", { pattern: this.pattern, dropped: this.dropped });
    }
    this.queue.push({ event, settle });
    if (!this.draining) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.wakeSpaceWaiters();
  }

  /** Events waiting or being handled. */
  get held(): number {
    return this.queue.length + this.inHand;
  }

  /** Resolves once fewer than `below` events are held (or the queue is closed): a durable engine's back-pressure. */
  room(below: number): Promise<void> {
    if (this.closed || this.held < below) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push({ below, resolve }));
  }

  private wakeSpaceWaiters(): void {
    if (this.spaceWaiters.length === 0) return;
    const waiting = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiting) {
      if (this.closed || this.held < w.below) w.resolve();
      else this.spaceWaiters.push(w);
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    await Promise.resolve(); // never deliver inside the publisher's call
    while (this.queue.length > 0 && !this.closed) {
      const { event, settle } = this.queue.shift()!;
      this.inHand = 1;
      try {
        await this.handler(event);
      } catch (error) {
        this.logger.log("error", "event subscriber failed", { pattern: this.pattern, event_id: event.id, type: event.type, error: errorMessage(error) });
      }
      this.inHand = 0;
      if (this.closed) break; // stopped while handling: leave it unacknowledged, to be delivered again
      this.wakeSpaceWaiters();
      try {
        settle?.();
      } catch (error) {
        // The broker connection went away: the event is delivered again when it is back.
        this.logger.log("warn", "could not acknowledge an event", { pattern: this.pattern, event_id: event.id, error: errorMessage(error) });
      }
    }
    this.draining = false;
  }
}
