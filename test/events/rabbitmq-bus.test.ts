// The RabbitMQ bus passes the bus conformance suite — when RABBITMQ_URL is set (.ci/run sets
// it) — and its durable subscriptions keep what a subscriber missed while it was away.
import { describe, test } from "bun:test";
import amqp from "amqplib";
import { RabbitMqBus } from "../../src/events/rabbitmq.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";

const url = process.env.RABBITMQ_URL;
if (!url) {
  console.warn("SKIPPED: RabbitMQ event bus tests (set RABBITMQ_URL, e.g. amqp://guest:guest@127.0.0.1:5672)");
  describe.skip("RabbitMQ bus (RABBITMQ_URL not set)", () => test("needs RabbitMQ", () => {}));
} else {
  let n = 0;
  busConformance("rabbitmq", () => RabbitMqBus.connect(url, { logger: silentLogger, exchange: `backroom.test.${process.pid}.${++n}` }));

  const exchange = `backroom.durable.${process.pid}`;
  const queueName = `backroom-durable-${process.pid}`;
  durableSubscriberTest("rabbitmq", {
    open: () => RabbitMqBus.connect(url, { logger: silentLogger, exchange }),
    subscribeDurable: (bus, pattern, handler) => bus.subscribe(pattern, handler, { durable: queueName }),
    async cleanup() {
      const admin = await amqp.connect(url);
      const channel = await admin.createChannel();
      await channel.deleteQueue(queueName);
      await channel.deleteExchange(exchange);
      await admin.close();
    },
  });
}
