// The event bus on RabbitMQ (amqplib): events are published to a topic exchange with the event
// type as routing key; our patterns map to AMQP's own (`*` one word; `>` → `#`, narrowed to
// "one or more" by the same matcher every bus uses). By default each subscription gets an
// exclusive, auto-deleted queue read without acknowledgements (at-most-once, like core NATS).
// With `durable: "<name>"` it binds a named durable queue instead: events published while the
// subscriber is down wait in RabbitMQ and are delivered when it subscribes again, and each is
// acknowledged only after the handler is done with it, so one that was queued or in hand when
// the subscriber stopped or died is delivered again (at least once). At most `prefetch`
// (default 1,000) unacknowledged events are held per durable subscription.
import amqp, { type Channel, type ChannelModel } from "amqplib";
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { SubscriberQueue } from "./subscriber-queue.ts";

export interface RabbitSubscribeOptions {
  /** A durable queue name: missed events are kept while this subscriber is away. */
  durable?: string;
}

export class RabbitMqBus implements EventBus {
  private readonly consumers = new Set<{ tag: Promise<string>; queue: SubscriberQueue }>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
    private readonly exchange: string,
    private readonly logger: Logger,
    private readonly prefetch: number,
  ) {}

  static async connect(url: string, options: { exchange?: string; logger?: Logger; prefetch?: number } = {}): Promise<RabbitMqBus> {
    const connection = await amqp.connect(url);
    const channel = await connection.createChannel();
    const exchange = options.exchange ?? "backroom.events";
    await channel.assertExchange(exchange, "topic", { durable: true });
    return new RabbitMqBus(connection, channel, exchange, options.logger ?? jsonLogger(), options.prefetch ?? 1_000);
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  async publishEvent(event: Event): Promise<void> {
    this.channel.publish(this.exchange, event.type, Buffer.from(JSON.stringify(event)), { persistent: true, messageId: event.id, contentType: "application/cloudevents+json" });
  }

  subscribe(pattern: string, handler: EventHandler, options: RabbitSubscribeOptions = {}): () => void {
    const matches = compilePattern(pattern);
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    const routingKey = pattern.replace(/(^|\.)>$/, "$1#");
    const tag = (async () => {
      const q = options.durable
        ? await this.channel.assertQueue(options.durable, { durable: true })
        : await this.channel.assertQueue("", { exclusive: true, autoDelete: true });
      await this.channel.bindQueue(q.queue, this.exchange, routingKey);
      const durable = Boolean(options.durable);
      // Applies to the consumers started after it on this channel: the durable one below.
      if (durable) await this.channel.prefetch(this.prefetch);
      const { consumerTag } = await this.channel.consume(
        q.queue,
        (message) => {
          if (!message) return;
          const ack = durable ? () => this.channel.ack(message) : undefined;
          try {
            const event = JSON.parse(message.content.toString()) as Event;
            if (matches(event.type)) return queue.push(event, ack);
          } catch (error) {
            this.logger.log("warn", "ignored an AMQP message that is not a Backroom event", { error: (error as Error).message });
          }
          ack?.();
        },
        { noAck: !durable },
      );
      return consumerTag;
    })();
    const entry = { tag, queue };
    this.consumers.add(entry);
    return () => {
      this.consumers.delete(entry);
      queue.close();
      void tag.then((t) => this.channel.cancel(t)).catch(() => {});
    };
  }

  /** Resolves once every subscription made so far is bound (before publishing in tests). */
  async ready(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.tag));
  }

  async close(): Promise<void> {
    for (const c of this.consumers) c.queue.close();
    this.consumers.clear();
    await this.channel.close().catch(() => {});
    await this.connection.close().catch(() => {});
  }
}
