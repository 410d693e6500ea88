// The in-process bus (the seeds' events.NewInProcessBus). Each subscriber has its own queue
// and delivery loop: delivery is asynchronous and in order per subscriber, and a subscriber
// that throws (logged) or hangs holds up only itself — never the publisher or the others.
// A hung subscriber's queue is bounded: past `maxQueued` the oldest events are dropped, logged.
import { errorMessage, jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";

interface Subscriber {
  pattern: string;
  matches: (type: string) => boolean;
  handler: EventHandler;
  queue: Event[];
  draining: boolean;
  dropped: number;
}

export class InProcessBus implements EventBus {
  private readonly subscribers = new Set<Subscriber>();
  private readonly logger: Logger;
  private readonly maxQueued: number;

  constructor(options: { logger?: Logger; maxQueued?: number } = {}) {
    this.logger = options.logger ?? jsonLogger();
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  async publishEvent(event: Event): Promise<void> {
    for (const s of this.subscribers) {
      if (!s.matches(event.type)) continue;
      if (s.queue.length >= this.maxQueued) {
        s.queue.shift();
        if (s.dropped++ % 1_000 === 0) this.logger.log("warn", "event subscriber too slow; dropping its oldest events", { pattern: s.pattern, dropped: s.dropped });
      }
      s.queue.push(event);
      if (!s.draining) void this.drain(s);
    }
  }

  subscribe(pattern: string, handler: EventHandler): () => void {
    const subscriber: Subscriber = { pattern, matches: compilePattern(pattern), handler, queue: [], draining: false, dropped: 0 };
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
      subscriber.queue.length = 0;
    };
  }

  async close(): Promise<void> {
    this.subscribers.clear();
  }

  private async drain(s: Subscriber): Promise<void> {
    s.draining = true;
    await Promise.resolve(); // never deliver inside the publisher's call
    while (s.queue.length > 0) {
      const event = s.queue.shift()!;
      try {
        await s.handler(event);
      } catch (error) {
        this.logger.log("error", "event subscriber failed", { pattern: s.pattern, event_id: event.id, type: event.type, error: errorMessage(error) });
      }
    }
    s.draining = false;
  }
}
