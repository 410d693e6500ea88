// One subscriber's delivery queue, shared by every bus engine: asynchronous, in order, a
// throwing handler logged and skipped, a hung one holding up only itself, and bounded (past
// `maxQueued` the oldest events are dropped, with a warning).
import { errorMessage, type Logger } from "../log.ts";
import type { EventHandler } from "./bus.ts";
import type { Event } from "./event.ts";

export class SubscriberQueue {
  private readonly queue: Event[] = [];
  private draining = false;
  private dropped = 0;
  private closed = false;

  constructor(
    readonly pattern: string,
    private readonly handler: EventHandler,
    private readonly logger: Logger,
    private readonly maxQueued = 10_000,
  ) {}

  push(event: Event): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift();
      if (this.dropped++ % 1_000 === 0) this.logger.log("warn", "event subscriber too slow; dropping its oldest events", { pattern: this.pattern, dropped: this.dropped });
    }
    this.queue.push(event);
    if (!this.draining) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    await Promise.resolve(); // never deliver inside the publisher's call
    while (this.queue.length > 0) {
      const event = this.queue.shift()!;
      try {
        await this.handler(event);
      } catch (error) {
        this.logger.log("error", "event subscriber failed", { pattern: this.pattern, event_id: event.id, type: event.type, error: errorMessage(error) });
      }
    }
    this.draining = false;
  }
}
