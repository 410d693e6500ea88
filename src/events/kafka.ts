// The event bus on Kafka (kafkajs: pure JavaScript, so it compiles into the binary). Tested
// against librdkafka's MOCK cluster (Debian `kcat -X test.mock.num.brokers=3`), which speaks the
// Kafka protocol on 127.0.0.1 — not against Apache Kafka itself.
//
// Topic mapping: every event goes to ONE topic (default "backroom.events"), as a structured
// CloudEvent (the JSON envelope as the value, content-type application/cloudevents+json), with
// its type in the `ce_type` header and its id in `ce_id`. Why one topic: Kafka has no wildcard
// over dotted words (a regex subscription only sees new topics at a metadata refresh, minutes
// later), topics are not free to create per event type, and one topic keeps a till's events in
// one order. Each message is keyed by the bus's `partitionKey` (default: the event's source), so
// one till's events share a partition and a subscriber sees them in publish order; tills with
// other sources spread over the partitions. A subscription reads the topic and keeps the types
// its pattern (`*`, `>`) matches, by the header, without parsing the rest.
//
// Subscriptions are consumer groups. A plain one gets a group of its own (a random name) that
// starts at the end of the topic: it sees what is published once it is ready (at most once,
// like core NATS). `{ durable: "name" }` uses the group `<groupPrefix><name>`, which resumes
// where it stopped: what was published while it was away is delivered when it comes back (a new
// group starts at the end, as a new JetStream consumer does). Offsets are committed only after
// the handler is done (in order, once per event-loop turn), so an event that was queued or in
// hand when the subscriber stopped or died is delivered again: at least once. At most
// MAX_IN_HAND events are taken ahead of the handler; the rest wait in Kafka.
//
// Publishing rejects while Kafka is out of reach (after a short retry): `serve` keeps events in
// the durable outbox in front (outbox-bus.ts). publishEvents sends many in one produce (acks from
// all in-sync replicas): the outbox's batches keep their order and cost one round trip.
import { randomUUID } from "node:crypto";
import { type Consumer, type ISocketFactory, Kafka, type KafkaMessage, logLevel, type Producer } from "kafkajs";
import { errorMessage, jsonLogger, type Logger } from "../log.ts";
import { type EventBus, type EventHandler, EventTooLargeError } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { MAX_IN_HAND, SubscriberQueue } from "./subscriber-queue.ts";

export interface KafkaBusOptions {
  logger?: Logger;
  /** The topic every event goes to. Default "backroom.events". */
  topic?: string;
  /** Durable subscription `name` reads as consumer group `<groupPrefix><name>`. Default "backroom.". */
  groupPrefix?: string;
  /** The message key, so one till's events keep their order on one partition. Default: each event's source. */
  partitionKey?: string;
  /** The most bytes an event's JSON may have. Default 1,000,000 (Kafka's message.max.bytes is 1,048,588 by default; keys, headers and batch overhead take the rest). */
  maxEventBytes?: number;
  clientId?: string;
  /** How long the group waits for a silent member before handing its partitions on (also the
   * rebalance timeout: how long a subscriber taking over a durable group may wait). Default
   * 10 s; Kafka refuses less than its group.min.session.timeout.ms (6 s by default). */
  sessionTimeoutMs?: number;
  /** kafkajs's own hook for how sockets are made (a proxy, a test's cut cable). */
  socketFactory?: ISocketFactory;
}

/** One produce request's bytes at most: the broker's message.max.bytes applies to a whole record batch. */
const MAX_BATCH_BYTES = 900_000;
const ADVICE = "raise the topic's max.message.bytes (and the bus's maxEventBytes), or keep events small and put large data behind a URL";

interface Subscribed {
  queue: SubscriberQueue;
  ready: Promise<void>;
  stop(): Promise<void>;
}

export class KafkaBus implements EventBus {
  private readonly subscriptions = new Set<Subscribed>();
  readonly maxEventBytes: number;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producer: Producer,
    private readonly logger: Logger,
    private readonly options: KafkaBusOptions,
  ) {
    this.maxEventBytes = options.maxEventBytes ?? 1_000_000;
  }

  /** `url`: kafka://host:port[,host:port…]. Connects the producer (the first time must succeed). */
  static async connect(url: string, options: KafkaBusOptions = {}): Promise<KafkaBus> {
    const brokers = parseKafkaUrl(url);
    const logger = options.logger ?? jsonLogger();
    const kafka = new Kafka({
      clientId: options.clientId ?? "backroom",
      brokers,
      socketFactory: options.socketFactory,
      connectionTimeout: 2_000,
      // Few, short retries: while Kafka is away the outbox keeps the events and retries itself.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
      logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true, maxInFlightRequests: 1 });
    await producer.connect();
    return new KafkaBus(kafka, producer, logger, options);
  }

  private get topic(): string {
    return this.options.topic ?? "backroom.events";
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  publishEvent(event: Event): Promise<void> {
    return this.publishEvents([event]);
  }

  /** Publishes in order, in as few produce requests as the broker's size limit allows; resolves once Kafka acknowledged them all. */
  async publishEvents(events: readonly Event[], jsons?: readonly string[]): Promise<void> {
    let batch: { key: string; value: string; headers: Record<string, string> }[] = [];
    let bytes = 0;
    for (const [i, event] of events.entries()) {
      const value = jsons?.[i] ?? JSON.stringify(event);
      const size = Buffer.byteLength(value);
      if (size > this.maxEventBytes) throw new EventTooLargeError(event.type, event.id, size, this.maxEventBytes, `Kafka takes in one message here: ${ADVICE}`);
      if (bytes + size > MAX_BATCH_BYTES && batch.length > 0) {
        await this.send(batch);
        batch = [];
        bytes = 0;
      }
      batch.push({ key: this.options.partitionKey ?? event.source, value, headers: { ce_type: event.type, ce_id: event.id, "content-type": "application/cloudevents+json" } });
      bytes += size;
    }
    if (batch.length > 0) await this.send(batch);
  }

  private async send(messages: { key: string; value: string; headers: Record<string, string> }[]): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  subscribe(pattern: string, handler: EventHandler, options: { durable?: string } = {}): () => void {
    const matches = compilePattern(pattern);
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    const groupId = options.durable ? `${this.options.groupPrefix ?? "backroom."}${options.durable}` : `backroom.subscriber.${randomUUID()}`;
    const sessionTimeout = this.options.sessionTimeoutMs ?? 10_000;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: true, sessionTimeout, rebalanceTimeout: sessionTimeout, heartbeatInterval: Math.max(100, sessionTimeout / 6) });
    // A plain subscription commits too: when kafkajs restarts its consumer after an outage, the
    // group resumes after the last event handled rather than at the end of the topic (which
    // would skip what the outbox sent as the broker came back).
    const commits = new OffsetCommits(consumer, this.topic);
    let stopped = false;
    // Ready once the group is joined and a first fetch answered: the offsets are fixed by then,
    // so anything published after it is delivered.
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const offFetch = consumer.on(consumer.events.FETCH, () => markReady());
    const started = (async () => {
      const start = await this.startOffsets(groupId);
      await consumer.connect();
      await consumer.subscribe({ topic: this.topic, fromBeginning: false });
      if (start.length > 0) {
        const offJoin = consumer.on(consumer.events.GROUP_JOIN, () => {
          offJoin();
          commits.start(start);
        });
      }
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message, heartbeat }) => {
          if (stopped) return;
          const settle = () => commits.settled(partition, message.offset);
          const event = this.parse(message, matches);
          if (!event) return settle();
          queue.push(event, settle);
          // Back-pressure: take no more from Kafka while the subscriber holds this many — and
          // keep heartbeating meanwhile, or the group would think this member dead.
          while (queue.held >= MAX_IN_HAND && !stopped) {
            await Promise.race([queue.room(MAX_IN_HAND), Bun.sleep(sessionTimeout / 6)]);
            await heartbeat().catch(() => {});
          }
        },
      });
      for (const { partition, offset } of start) consumer.seek({ topic: this.topic, partition, offset });
    })();
    started.catch((error) => {
      markReady();
      this.logger.log("error", "could not subscribe on Kafka", { pattern, group: groupId, error: errorMessage(error) });
    });
    const entry: Subscribed = {
      queue,
      ready,
      stop: async () => {
        stopped = true;
        queue.close();
        offFetch();
        markReady();
        await started.catch(() => {});
        await commits.flush();
        await consumer.disconnect().catch(() => {});
      },
    };
    this.subscriptions.add(entry);
    return () => {
      this.subscriptions.delete(entry);
      void entry.stop();
    };
  }

  /**
   * Where a group that has never committed starts: the end of each partition AS IT IS NOW.
   * Left to kafkajs, "the end" would be read at each (re)start, and a consumer restarted after
   * an outage would skip what was published while it was away; so these offsets are sought
   * and committed as soon as the consumer joins. Empty for a group that has committed before.
   */
  private async startOffsets(groupId: string): Promise<{ partition: number; offset: string }[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [this.topic] }); // creates the topic on first use
      const [committed] = await admin.fetchOffsets({ groupId, topics: [this.topic] });
      const known = new Map(committed?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      const ends = await admin.fetchTopicOffsets(this.topic);
      return ends.filter((p) => (known.get(p.partition) ?? "-1") === "-1").map((p) => ({ partition: p.partition, offset: p.high }));
    } finally {
      await admin.disconnect();
    }
  }

  /** The event in a message, when its type matches; null for anything else (acknowledged and skipped). */
  private parse(message: KafkaMessage, matches: (type: string) => boolean): Event | null {
    const type = message.headers?.ce_type?.toString();
    if (type !== undefined && !matches(type)) return null;
    try {
      const event = JSON.parse(message.value?.toString() ?? "") as Event;
      return matches(event.type) ? event : null;
    } catch (error) {
      this.logger.log("warn", "ignored a Kafka message that is not a Backroom event", { offset: message.offset, error: errorMessage(error) });
      return null;
    }
  }

  async ready(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.ready));
  }

  async close(): Promise<void> {
    const stops = [...this.subscriptions].map((s) => s.stop());
    this.subscriptions.clear();
    await Promise.all(stops);
    await this.producer.disconnect().catch(() => {});
  }
}

/**
 * A durable subscription's offsets, committed once per event-loop turn (an offset commit per
 * event would be a round trip each). Events settle in order per partition — the subscriber
 * queue is first in, first out — so committing the last settled offset + 1 never covers an
 * event still queued or in hand.
 */
class OffsetCommits {
  private readonly owed = new Map<number, string>();
  private scheduled: Promise<void> | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly topic: string,
  ) {}

  /** A new group's starting offsets, committed unless events settled first. */
  start(offsets: readonly { partition: number; offset: string }[]): void {
    for (const { partition, offset } of offsets) if (!this.owed.has(partition)) this.owed.set(partition, offset);
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  settled(partition: number, offset: string): void {
    this.owed.set(partition, (BigInt(offset) + 1n).toString());
    this.scheduled ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  async flush(): Promise<void> {
    this.scheduled = null;
    if (this.owed.size === 0) return;
    const topics = [{ topic: this.topic, partitions: [...this.owed].map(([partition, offset]) => ({ partition, offset })) }];
    const owed = new Map(this.owed);
    this.owed.clear();
    await this.consumer.commitOffsets(topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, ...p })))).catch(() => {
      // Kafka went away (or the group rebalanced): owed again, unless a later offset is owed
      // by now. Uncommitted, the events would only come again (at least once).
      for (const [partition, offset] of owed) if (!this.owed.has(partition)) this.owed.set(partition, offset);
    });
  }
}

/** kafka://host:port[,host:port…] → ["host:port", …]. */
export function parseKafkaUrl(url: string): string[] {
  const match = /^kafka:\/\/(.+)$/.exec(url);
  const brokers = match?.[1]!.replace(/\/$/, "").split(",").map((b) => b.trim()).filter(Boolean) ?? [];
  if (brokers.length === 0 || brokers.some((b) => !/^[^\s/:]+:\d+$/.test(b))) throw new Error(`a Kafka URL is kafka://host:port[,host:port…], not "${url}"`);
  return brokers;
}
