// The in-process bus (the seeds' events.NewInProcessBus). Each subscriber has its own queue
// (subscriber-queue.ts): delivery is asynchronous and in order per subscriber, and a
// subscriber that throws (logged) or hangs holds up only itself.
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { SubscriberQueue } from "./subscriber-queue.ts";

export class InProcessBus implements EventBus {
  private readonly subscribers = new Set<{ matches: (type: string) => boolean; queue: SubscriberQueue }>();
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
    for (const s of this.subscribers) if (s.matches(event.type)) s.queue.push(event);
  }

  subscribe(pattern: string, handler: EventHandler): () => void {
    const subscriber = { matches: compilePattern(pattern), queue: new SubscriberQueue(pattern, handler, this.logger, this.maxQueued) };
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
      subscriber.queue.close();
    };
  }

  async close(): Promise<void> {
    for (const s of this.subscribers) s.queue.close();
    this.subscribers.clear();
  }
}
