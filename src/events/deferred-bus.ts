// A network bus that a till starts without: if the broker cannot be reached when the process
// starts (head office is down, the line is not up yet), the till still starts and takes
// orders. This keeps trying to open the real bus, with a backoff doubling up to 30 s; until
// then subscriptions are recorded (and bound once it opens) and events wait in order
// (unsent-events.ts). Once open, everything goes to the real bus, which handles later outages
// itself.
import type { Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { UnsentEvents } from "./unsent-events.ts";

interface Recorded {
  pattern: string;
  handler: EventHandler;
  options: object | undefined;
  unsubscribe: (() => void) | null;
}

/** `subscribe` with the adapter's options (durable names), which the EventBus interface leaves out. */
type Subscribing = EventBus & { subscribe(pattern: string, handler: EventHandler, options?: object): () => void };

export class DeferredBus implements EventBus {
  private inner: Subscribing | null = null;
  private readonly subscriptions = new Set<Recorded>();
  private readonly unsent: UnsentEvents;
  private closed = false;
  private wake: (() => void) | null = null;
  /** Settles once the real bus is open (or the bus was closed first). */
  readonly opened: Promise<void>;

  constructor(
    open: () => Promise<EventBus>,
    private readonly logger: Logger,
    private readonly engine: string,
  ) {
    this.unsent = new UnsentEvents(async (event) => {
      if (!this.inner) throw new Error(`not connected to ${engine} yet`);
      await this.inner.publishEvent(event);
    }, logger, engine);
    this.opened = this.keepOpening(open);
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  publishEvent(event: Event): Promise<void> {
    // Behind anything still waiting, so events keep their order across the opening.
    return this.inner && this.unsent.size === 0 ? this.inner.publishEvent(event) : this.unsent.publish(event);
  }

  subscribe(pattern: string, handler: EventHandler, options?: object): () => void {
    compilePattern(pattern); // a bad pattern is refused now, as by every bus
    const recorded: Recorded = { pattern, handler, options, unsubscribe: null };
    this.subscriptions.add(recorded);
    if (this.inner) recorded.unsubscribe = this.inner.subscribe(pattern, handler, options);
    return () => {
      this.subscriptions.delete(recorded);
      recorded.unsubscribe?.();
    };
  }

  async ready(): Promise<void> {
    await this.inner?.ready?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.unsent.close();
    await this.opened;
    await this.inner?.close();
  }

  private async keepOpening(open: () => Promise<EventBus>): Promise<void> {
    for (let delay = 250; !this.closed; delay = Math.min(delay * 2, 30_000)) {
      try {
        const bus = (await open()) as Subscribing;
        if (this.closed) return void (await bus.close());
        this.inner = bus;
        for (const s of this.subscriptions) s.unsubscribe = bus.subscribe(s.pattern, s.handler, s.options);
        this.unsent.retryNow();
        this.logger.log("info", `${this.engine} reached: events flow`, { waiting: this.unsent.size });
        return;
      } catch (error) {
        this.logger.log("warn", `cannot reach ${this.engine}; the till runs on and keeps its events`, { error: (error as Error).message, retry_ms: delay });
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => (clearTimeout(timer), resolve());
        });
        this.wake = null;
      }
    }
  }
}
