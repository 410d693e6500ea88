// What a network bus does with an event it cannot hand to its broker right now (the broker is
// restarting, the link is down): keep it, in order, and send it when the broker is back — so a
// till's orders, and their events, go on while it is away. Kept in memory, the newest
// `max` (10,000); a process that ends meanwhile loses them (webhooks, which must not be lost,
// go through the job queue instead). An event the broker refuses for good (EventTooLargeError)
// is not an outage and is never kept: kept, it would be re-sent forever and hold back every
// event behind it.
import type { Logger } from "../log.ts";
import { EventTooLargeError } from "./bus.ts";
import type { Event } from "./event.ts";

export class UnsentEvents {
  private readonly waiting: Event[] = [];
  private flushing: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private dropped = 0;

  constructor(
    /** Hands one event to the broker; rejects if it cannot now. */
    private readonly send: (event: Event) => Promise<void>,
    private readonly logger: Logger,
    private readonly engine: string,
    private readonly max = 10_000,
  ) {}

  get size(): number {
    return this.waiting.length;
  }

  /**
   * Sends now, or — behind anything already waiting, or if the broker is out of reach — later.
   * Rejects only with EventTooLargeError, for an event the broker will never take.
   */
  async publish(event: Event): Promise<void> {
    if (this.waiting.length === 0 && !this.closed) {
      try {
        return await this.send(event);
      } catch (error) {
        if (error instanceof EventTooLargeError) throw error;
        this.logger.log("warn", `${this.engine} out of reach: keeping events until it is back`, { error: (error as Error).message });
      }
    }
    this.keep(event);
  }

  /** The broker is back: try at once rather than at the next retry. */
  retryNow(): void {
    this.wake?.();
  }

  /** Stops retrying; says how many never reached the broker. */
  close(): void {
    this.closed = true;
    this.wake?.();
    if (this.waiting.length > 0) this.logger.log("warn", `closing with events ${this.engine} never received`, { unsent: this.waiting.length });
  }

  private keep(event: Event): void {
    if (this.waiting.length >= this.max) {
      this.waiting.shift();
      if (this.dropped++ % 1_000 === 0) this.logger.log("warn", `${this.engine} out of reach too long: dropping the oldest unsent events`, { kept: this.max, dropped: this.dropped });
    }
    this.waiting.push(event);
    this.flushing ??= this.flush().finally(() => (this.flushing = null));
  }

  private async flush(): Promise<void> {
    let delay = 100;
    let delivered = 0;
    while (this.waiting.length > 0 && !this.closed) {
      try {
        await this.send(this.waiting[0]!);
        this.waiting.shift();
        delivered++;
        delay = 100;
      } catch (error) {
        if (error instanceof EventTooLargeError) {
          // Kept before its size could be checked (the broker's limit was not known yet): its
          // publisher has long been answered, so the log is the only one left to tell.
          this.waiting.shift();
          this.logger.log("error", `${this.engine} refuses an event kept while it was away: dropped`, { type: error.eventType, id: error.eventId, error: error.message });
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = null;
        delay = Math.min(delay * 2, 5_000);
      }
    }
    if (!this.closed) this.logger.log("info", `${this.engine} back: events kept meanwhile are delivered`, { delivered, dropped: this.dropped });
    this.dropped = 0;
  }
}
