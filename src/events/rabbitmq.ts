// The event bus on RabbitMQ (amqplib): events are published to a topic exchange with the event
// type as routing key; our patterns map to AMQP's own (`*` one word; `>` → `#`, narrowed to
// "one or more" by the same matcher every bus uses). By default each subscription gets an
// exclusive, auto-deleted queue read without acknowledgements (at-most-once, like core NATS).
// With `durable: "<name>"` it binds a named durable queue instead: events published while the
// subscriber is down wait in RabbitMQ and are delivered when it subscribes again, and each is
// acknowledged only after the handler is done with it, so one that was queued or in hand when
// the subscriber stopped or died is delivered again (at least once). At most `prefetch`
// (default 1,000) unacknowledged events are held per durable subscription.
import amqp, { type Channel, type ChannelModel, type Message } from "amqplib";
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { MAX_IN_HAND, MAX_QUEUED, SubscriberQueue } from "./subscriber-queue.ts";

export interface RabbitSubscribeOptions {
  /** A durable queue name: missed events are kept while this subscriber is away. */
  durable?: string;
}

interface Consumer {
  queue: SubscriberQueue;
  tag: Promise<string>;
  /** Cancels the consumer, sends the acknowledgements owed, closes its own channel. */
  stop(): Promise<void>;
}

/**
 * Acknowledgements of a durable subscription, one cumulative ack per event-loop turn (an ack
 * per event cost a third of the throughput). Events settle in delivery order — the subscriber
 * queue is first in, first out — so acknowledging the last settled one "and all before it"
 * never covers an event still queued or in hand. A message the subscription does not want is
 * acknowledged alone at once: it arrived after every event settled so far.
 */
class CumulativeAcks {
  private last: Message | null = null;
  private scheduled = false;

  constructor(private readonly channel: Channel) {}

  settled(message: Message): void {
    this.last = message;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  skip(message: Message): void {
    this.channel.ack(message);
  }

  flush(): void {
    this.scheduled = false;
    const last = this.last;
    this.last = null;
    try {
      if (last) this.channel.ack(last, true);
    } catch {
      // The channel closed under us: RabbitMQ delivers those events again (at least once).
    }
  }
}

export class RabbitMqBus implements EventBus {
  private readonly consumers = new Set<Consumer>();

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
    // Never more unacknowledged than a subscriber queue holds: one that overflowed would drop
    // (and acknowledge) events behind one still in hand.
    const prefetch = Math.min(options.prefetch ?? MAX_IN_HAND, MAX_QUEUED);
    return new RabbitMqBus(connection, channel, exchange, options.logger ?? jsonLogger(), prefetch);
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
    const entry: Consumer = { queue, tag: Promise.resolve(""), stop: async () => {} };
    entry.tag = (async () => {
      // A durable subscription reads on a channel of its own: its prefetch limit and its
      // cumulative acknowledgements (which cover every earlier delivery on the channel) then
      // concern its own deliveries only.
      const channel = options.durable ? await this.connection.createChannel() : this.channel;
      const q = options.durable
        ? await channel.assertQueue(options.durable, { durable: true })
        : await channel.assertQueue("", { exclusive: true, autoDelete: true });
      await channel.bindQueue(q.queue, this.exchange, routingKey);
      const acks = options.durable ? new CumulativeAcks(channel) : null;
      if (acks) await channel.prefetch(this.prefetch);
      const { consumerTag } = await channel.consume(
        q.queue,
        (message) => {
          if (!message) return;
          try {
            const event = JSON.parse(message.content.toString()) as Event;
            if (matches(event.type)) return queue.push(event, acks ? () => acks.settled(message) : undefined);
          } catch (error) {
            this.logger.log("warn", "ignored an AMQP message that is not a Backroom event", { error: (error as Error).message });
          }
          acks?.skip(message);
        },
        { noAck: !acks },
      );
      entry.stop = async () => {
        await channel.cancel(consumerTag).catch(() => {});
        acks?.flush();
        if (channel !== this.channel) await channel.close().catch(() => {}); // what was not acknowledged goes back to the queue
      };
      return consumerTag;
    })();
    this.consumers.add(entry);
    return () => {
      this.consumers.delete(entry);
      queue.close();
      void entry.tag.then(() => entry.stop()).catch(() => {});
    };
  }

  /** Resolves once every subscription made so far is bound (before publishing in tests). */
  async ready(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.tag));
  }

  async close(): Promise<void> {
    for (const c of this.consumers) c.queue.close();
    await Promise.all([...this.consumers].map((c) => c.tag.then(() => c.stop()).catch(() => {})));
    this.consumers.clear();
    await this.channel.close().catch(() => {});
    await this.connection.close().catch(() => {});
  }
}
