// The event bus on RabbitMQ (amqplib): events are published to a topic exchange with the event
// type as routing key; our patterns map to AMQP's own (`*` one word; `>` → `#`, narrowed to
// "one or more" by the same matcher every bus uses). By default each subscription gets an
// exclusive, auto-deleted queue read without acknowledgements (at-most-once, like core NATS).
// With `durable: "<name>"` it binds a named durable queue instead: events published while the
// subscriber is down wait in RabbitMQ and are delivered when it subscribes again, and each is
// acknowledged only after the handler is done with it, so one that was queued or in hand when
// the subscriber stopped or died is delivered again (at least once). At most `prefetch`
// (default 1,000) unacknowledged events are held per durable subscription.
//
// A lost connection (the broker restarting, the network) is made again with a backoff that
// doubles up to 30 s, and every subscription is bound again; publishing meanwhile rejects, and
// the durable outbox in front (outbox-bus.ts) sends those events, in order, once it is back.
// Events are published on a confirm channel: flush() resolves once RabbitMQ has confirmed
// everything published so far, which is when the outbox lets them go.
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Message } from "amqplib";
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

interface Subscription {
  pattern: string;
  handler: EventHandler;
  options: RabbitSubscribeOptions;
  queue: SubscriberQueue;
  /** Its consumer on the current connection, once bound (null while disconnected). */
  consumer: Promise<Consumer> | null;
}

export class RabbitMqBus implements EventBus {
  private readonly subscriptions = new Set<Subscription>();
  private connection: ChannelModel | null = null;
  private channel: ConfirmChannel | null = null;
  /** The channel of the first publish no flush has covered yet: a confirmation on a newer one
   * (after a reconnect) says nothing of what went out on it. */
  private unflushedOn: ConfirmChannel | null = null;
  private closing = false;
  /** One reconnect loop at a time, even if a new connection drops while it is being set up. */
  private reconnecting = false;
  private retryMs = 0;

  private constructor(
    private readonly url: string,
    private readonly exchange: string,
    private readonly logger: Logger,
    private readonly prefetch: number,
  ) {}

  /** Connects (the first time must succeed); a connection lost later is made again, with backoff. */
  static async connect(url: string, options: { exchange?: string; logger?: Logger; prefetch?: number } = {}): Promise<RabbitMqBus> {
    // Never more unacknowledged than a subscriber queue holds: one that overflowed would drop
    // (and acknowledge) events behind one still in hand.
    const prefetch = Math.min(options.prefetch ?? MAX_IN_HAND, MAX_QUEUED);
    const bus = new RabbitMqBus(url, options.exchange ?? "backroom.events", options.logger ?? jsonLogger(), prefetch);
    await bus.open();
    return bus;
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  /** Publishes now; rejects while the broker is out of reach (the outbox in front keeps the event). */
  async publishEvent(event: Event): Promise<void> {
    this.send(event);
  }

  /** Resolves once RabbitMQ has confirmed every event published since the last flush; rejects
   * if the connection they went out on was lost meanwhile. */
  async flush(): Promise<void> {
    const since = this.unflushedOn;
    this.unflushedOn = null;
    if (!this.channel) throw new Error("not connected to RabbitMQ");
    if (since && since !== this.channel) throw new Error("the RabbitMQ connection was lost after events were published: they may not have been confirmed");
    await this.channel.waitForConfirms();
  }

  subscribe(pattern: string, handler: EventHandler, options: RabbitSubscribeOptions = {}): () => void {
    const subscription: Subscription = { pattern, handler, options, queue: new SubscriberQueue(pattern, handler, this.logger), consumer: null };
    this.subscriptions.add(subscription);
    if (this.connection) subscription.consumer = this.bindLogged(this.connection, subscription);
    return () => {
      this.subscriptions.delete(subscription);
      subscription.queue.close();
      void subscription.consumer?.then((c) => c.stop()).catch(() => {});
    };
  }

  /** Resolves once every subscription made so far is bound (before publishing in tests). */
  async ready(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.consumer));
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.subscriptions) s.queue.close();
    await Promise.all([...this.subscriptions].map((s) => s.consumer?.then((c) => c.stop()).catch(() => {})));
    this.subscriptions.clear();
    await this.channel?.close().catch(() => {});
    await this.connection?.close().catch(() => {});
  }

  // ── connection ──────────────────────────────────────────────────────────────────────────

  private async open(): Promise<void> {
    const connection = await amqp.connect(this.url);
    // Without these, a broker that restarts would end the process ('error' unheard) or leave
    // the bus silently dead ('close').
    connection.on("error", (error: Error) => this.logger.log("warn", "RabbitMQ connection error", { error: error.message }));
    connection.on("close", () => this.lost(connection));
    let channel: ConfirmChannel;
    try {
      channel = await connection.createConfirmChannel();
      channel.on("error", (error: Error) => this.logger.log("warn", "RabbitMQ channel error", { error: error.message }));
      // The publishing channel closed on its own (the broker refused something): start afresh.
      channel.on("close", () => {
        if (!this.closing && this.channel === channel) void connection.close().catch(() => this.lost(connection));
      });
      await channel.assertExchange(this.exchange, "topic", { durable: true });
    } catch (error) {
      await connection.close().catch(() => {}); // not half a bus: the next attempt starts clean
      throw error;
    }
    this.connection = connection;
    for (const s of this.subscriptions) s.consumer = this.bindLogged(connection, s);
    await Promise.all([...this.subscriptions].map((s) => s.consumer!.catch(() => {})));
    this.channel = channel;
  }

  private lost(connection: ChannelModel): void {
    if (this.closing || this.connection !== connection) return;
    this.connection = null;
    this.channel = null;
    for (const s of this.subscriptions) s.consumer = null; // their channels died with the connection
    this.logger.log("warn", "lost the RabbitMQ connection; reconnecting (events are kept until it is back)", {});
    if (!this.reconnecting) void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    this.reconnecting = true;
    try {
      await this.reconnectLoop();
    } finally {
      this.reconnecting = false;
    }
  }

  private async reconnectLoop(): Promise<void> {
    while (!this.closing && !this.connection) {
      this.retryMs = Math.min(Math.max(this.retryMs * 2, 250), 30_000);
      await Bun.sleep(this.retryMs);
      if (this.closing) return;
      try {
        await this.open();
        this.retryMs = 0;
        this.logger.log("info", "RabbitMQ connection back", {});
      } catch (error) {
        this.logger.log("warn", "RabbitMQ still out of reach", { error: (error as Error).message, retry_ms: this.retryMs });
      }
    }
  }

  /** Throws while there is no channel (the outbox keeps the event for the next connection). */
  private send(event: Event): void {
    if (!this.channel) throw new Error("not connected to RabbitMQ");
    this.unflushedOn ??= this.channel;
    this.channel.publish(this.exchange, event.type, Buffer.from(JSON.stringify(event)), { persistent: true, messageId: event.id, contentType: "application/cloudevents+json" });
  }

  /** bind, with a failure (RabbitMQ refusing the queue, say) logged rather than left unhandled. */
  private bindLogged(connection: ChannelModel, subscription: Subscription): Promise<Consumer> {
    const consumer = this.bind(connection, subscription);
    consumer.catch((error: Error) => this.logger.log("error", "could not subscribe on RabbitMQ", { pattern: subscription.pattern, error: error.message }));
    return consumer;
  }

  /** Binds one subscription on this connection: its queue, its consumer, its acknowledgements. */
  private async bind(connection: ChannelModel, subscription: Subscription): Promise<Consumer> {
    const { pattern, options, queue } = subscription;
    const matches = compilePattern(pattern);
    const routingKey = pattern.replace(/(^|\.)>$/, "$1#");
    // Each subscription reads on a channel of its own: a durable one's prefetch limit and its
    // cumulative acknowledgements (which cover every earlier delivery on the channel) then
    // concern its own deliveries only.
    const channel = await connection.createChannel();
    channel.on("error", (error: Error) => this.logger.log("warn", "RabbitMQ channel error", { pattern, error: error.message }));
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
    return {
      queue,
      tag: Promise.resolve(consumerTag),
      stop: async () => {
        await channel.cancel(consumerTag).catch(() => {});
        acks?.flush();
        await channel.close().catch(() => {}); // what was not acknowledged goes back to the queue
      },
    };
  }
}
