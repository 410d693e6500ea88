// The event bus on NATS (the `nats` package): the same EventBus, across processes. Our
// patterns are NATS's own subject wildcards (`*` one token, `>` the rest), so subscriptions
// map one to one. Core NATS is at-most-once: a subscriber that is down misses what is
// published meanwhile — for must-not-lose deliveries use webhooks (the job queue is the outbox).
import { connect, type NatsConnection, type Subscription } from "nats";
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { SubscriberQueue } from "./subscriber-queue.ts";

export class NatsBus implements EventBus {
  private readonly subscriptions = new Set<{ subscription: Subscription; queue: SubscriberQueue }>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
  ) {}

  static async connect(url: string, options: { logger?: Logger; name?: string } = {}): Promise<NatsBus> {
    const nc = await connect({ servers: url, name: options.name ?? "backroom" });
    return new NatsBus(nc, options.logger ?? jsonLogger());
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  async publishEvent(event: Event): Promise<void> {
    this.nc.publish(event.type, JSON.stringify(event));
  }

  subscribe(pattern: string, handler: EventHandler): () => void {
    compilePattern(pattern); // the same validation as every bus
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    const subscription = this.nc.subscribe(pattern, {
      callback: (error, message) => {
        if (error) return this.logger.log("error", "NATS subscription failed", { pattern, error: error.message });
        try {
          queue.push(JSON.parse(message.string()) as Event);
        } catch (e) {
          this.logger.log("warn", "ignored a NATS message that is not a Backroom event", { subject: message.subject, error: (e as Error).message });
        }
      },
    });
    const entry = { subscription, queue };
    this.subscriptions.add(entry);
    return () => {
      this.subscriptions.delete(entry);
      subscription.unsubscribe();
      queue.close();
    };
  }

  async close(): Promise<void> {
    for (const { subscription, queue } of this.subscriptions) {
      subscription.unsubscribe();
      queue.close();
    }
    this.subscriptions.clear();
    await this.nc.drain();
  }
}
