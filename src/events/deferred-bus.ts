// A network bus that a till starts without: if the broker cannot be reached when the process
// starts (head office is down, the line is not up yet), the till still starts and takes
// orders. This keeps trying to open the real bus, with a backoff doubling up to 5 s (one failed connect attempt is cheap; a till's kept events wait on it); until
// then subscriptions are recorded (and bound once it opens) and publishing rejects — the
// durable outbox in front (outbox-bus.ts) keeps the events and sends them once it opens. Once
// open, everything goes to the real bus.
import type { Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import type { RelayTarget } from "./outbox-bus.ts";
import { compilePattern } from "./pattern.ts";

interface Recorded {
  pattern: string;
  handler: EventHandler;
  options: object | undefined;
  unsubscribe: (() => void) | null;
}

/** `subscribe` with the adapter's options (durable names), which the EventBus interface leaves out. */
type Subscribing = RelayTarget;

export class DeferredBus implements RelayTarget {
  private inner: Subscribing | null = null;
  private readonly subscriptions = new Set<Recorded>();
  private closed = false;
  private wake: (() => void) | null = null;
  /** Settles once the real bus is open (or the bus was closed first). */
  readonly opened: Promise<void>;

  constructor(
    open: () => Promise<EventBus>,
    private readonly logger: Logger,
    private readonly engine: string,
  ) {
    this.opened = this.keepOpening(open);
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  publishEvent(event: Event): Promise<void> {
    return this.open().publishEvent(event);
  }

  publishEvents(events: readonly Event[], jsons?: readonly string[]): Promise<void> {
    const inner = this.open();
    if (inner.publishEvents) return inner.publishEvents(events, jsons);
    return Promise.all(events.map((e, i) => (jsons && inner.publishEventJson ? inner.publishEventJson(e, jsons[i]!) : inner.publishEvent(e)))).then(() => {});
  }

  flush(): Promise<void> {
    return this.inner?.flush?.() ?? Promise.resolve();
  }

  get maxEventBytes(): number | undefined {
    return this.inner?.maxEventBytes;
  }

  /** The real bus; throws (the outbox keeps the event) until it is open. */
  private open(): Subscribing {
    if (!this.inner) throw new Error(`not connected to ${this.engine} yet`);
    return this.inner;
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
    await this.opened;
    await this.inner?.close();
  }

  private async keepOpening(open: () => Promise<EventBus>): Promise<void> {
    for (let delay = 250; !this.closed; delay = Math.min(delay * 2, 5_000)) {
      try {
        const bus = (await open()) as Subscribing;
        if (this.closed) return void (await bus.close());
        this.inner = bus;
        for (const s of this.subscriptions) s.unsubscribe = bus.subscribe(s.pattern, s.handler, s.options);
        this.logger.log("info", `${this.engine} reached: events flow`, {});
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
