// The bus engines bench/adapters.ts measures, each constructed as its tests construct it
// (test/events/*-bus.test.ts), with a publisher and a subscriber on separate connections as
// two processes would have, and with names (subject prefix, stream, exchange, queues,
// consumer groups) of this run only: `close()` removes what the run left in the broker.
import amqp from "amqplib";
import { RedisClient } from "bun";
import { connect } from "nats";
import { KafkaBus } from "../../src/events/kafka.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { NatsBus } from "../../src/events/nats.ts";
import { RabbitMqBus } from "../../src/events/rabbitmq.ts";
import { RedisStreamsBus } from "../../src/events/redis.ts";
import type { Logger } from "../../src/log.ts";
import type { BusCase } from "./bus-load.ts";

export interface BusEngine {
  name: string;
  /** The URL variable; null for the in-process bus. */
  variable: string | null;
  /** Events at --scale 1: a few seconds each on a 2-core box. */
  events: number;
  open(url: string, logger: Logger): Promise<BusCase & { close(): Promise<void> }>;
}

const run = `${process.pid}_${Date.now().toString(36)}`;
const SUBSCRIBERS = 10;
const names = (stem: string) => Array.from({ length: SUBSCRIBERS }, (_, i) => `${stem}-${i}`);

function nats(durable: boolean): BusEngine["open"] {
  return async (url, logger) => {
    const subjectPrefix = `bench_${durable ? "js" : "core"}_${run}.`;
    const stream = durable ? `BACKROOM_BENCH_${run}` : undefined;
    const publisher = await NatsBus.connect(url, { logger, subjectPrefix, stream, name: "backroom-bench-pub" });
    const subscriber = await NatsBus.connect(url, { logger, subjectPrefix, stream, name: "backroom-bench-sub" });
    const consumers = names("bench");
    return {
      publisher,
      subscriber,
      subscribe: (pattern, handler, i) => void subscriber.subscribe(pattern, handler, durable ? { durable: consumers[i]! } : {}),
      async close() {
        await Promise.all([publisher.close(), subscriber.close()]);
        if (!stream) return;
        const admin = await connect({ servers: url });
        await (await admin.jetstreamManager()).streams.delete(stream); // and its consumers
        await admin.close();
      },
    };
  };
}

function rabbitmq(durable: boolean): BusEngine["open"] {
  return async (url, logger) => {
    const exchange = `backroom.bench.${run}.${durable ? "durable" : "core"}`;
    const publisher = await RabbitMqBus.connect(url, { logger, exchange });
    const subscriber = await RabbitMqBus.connect(url, { logger, exchange });
    const queues = names(`backroom-bench-${run}`);
    return {
      publisher,
      subscriber,
      subscribe: (pattern, handler, i) => void subscriber.subscribe(pattern, handler, durable ? { durable: queues[i]! } : {}),
      async close() {
        await Promise.all([publisher.close(), subscriber.close()]);
        const admin = await amqp.connect(url);
        const channel = await admin.createChannel();
        if (durable) for (const q of queues) await channel.deleteQueue(q);
        await channel.deleteExchange(exchange);
        await admin.close();
      },
    };
  };
}

function redis(durable: boolean): BusEngine["open"] {
  return async (url, logger) => {
    const stream = `backroom:bench:${run}:${durable ? "groups" : "core"}`;
    const publisher = new RedisStreamsBus(url, { logger, stream });
    const subscriber = new RedisStreamsBus(url, { logger, stream });
    // One consumer group per subscriber: each must see every event (one group would share them out).
    const groups = names("bench");
    return {
      publisher,
      subscriber,
      subscribe: (pattern, handler, i) => void subscriber.subscribe(pattern, handler, durable ? { durable: groups[i]! } : {}),
      async close() {
        await Promise.all([publisher.close(), subscriber.close()]);
        await Bun.sleep(600); // blocking reads still in flight time out before the stream goes
        const admin = new RedisClient(url);
        await admin.send("DEL", [stream]);
        admin.close();
      },
    };
  };
}

/** Kafka: librdkafka's MOCK cluster in practice (kcat; .ci/kafka-mock prints its URL), not Apache Kafka. */
function kafka(durable: boolean): BusEngine["open"] {
  return async (url, logger) => {
    // A topic of this run; the mock forgets it when it stops (a real cluster keeps it: delete it by hand).
    const topic = `backroom.bench.${run}.${durable ? "durable" : "core"}`;
    const groupPrefix = `backroom.bench.${run}.`;
    const publisher = await KafkaBus.connect(url, { logger, topic, groupPrefix });
    const subscriber = await KafkaBus.connect(url, { logger, topic, groupPrefix });
    const groups = names("bench");
    return {
      publisher,
      subscriber,
      subscribe: (pattern, handler, i) => void subscriber.subscribe(pattern, handler, durable ? { durable: groups[i]! } : {}),
      close: async () => void (await Promise.all([publisher.close(), subscriber.close()])),
    };
  };
}

export const BUS_ENGINES: BusEngine[] = [
  {
    name: "in_process",
    variable: null,
    events: 500_000,
    async open(_url, logger) {
      const bus = new InProcessBus({ logger });
      return { publisher: bus, subscriber: bus, subscribe: (pattern, handler) => void bus.subscribe(pattern, handler), close: () => bus.close() };
    },
  },
  { name: "nats", variable: "NATS_URL", events: 100_000, open: nats(false) },
  { name: "nats_jetstream_durable", variable: "NATS_URL", events: 15_000, open: nats(true) },
  { name: "rabbitmq", variable: "RABBITMQ_URL", events: 6_000, open: rabbitmq(false) },
  { name: "rabbitmq_durable", variable: "RABBITMQ_URL", events: 3_000, open: rabbitmq(true) },
  { name: "redis_streams", variable: "REDIS_URL", events: 60_000, open: redis(false) },
  { name: "redis_streams_durable", variable: "REDIS_URL", events: 60_000, open: redis(true) },
  { name: "kafka_mock", variable: "KAFKA_URL", events: 3_000, open: kafka(false) },
  { name: "kafka_mock_durable", variable: "KAFKA_URL", events: 3_000, open: kafka(true) },
];

/** Deletes every key under `prefix` (what a Redis queue of this run left). */
export async function cleanRedisPrefix(url: string, prefix: string): Promise<void> {
  const admin = new RedisClient(url);
  let cursor = "0";
  do {
    const [next, keys] = (await admin.send("SCAN", [cursor, "MATCH", `${prefix}*`, "COUNT", "1000"])) as [string, string[]];
    if (keys.length) await admin.send("DEL", keys);
    cursor = next;
  } while (cursor !== "0");
  admin.close();
}
