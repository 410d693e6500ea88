// The RabbitMQ bus passes the bus conformance suite — when RABBITMQ_URL is set (.ci/run sets
// it) — and its durable subscriptions keep what a subscriber missed while it was away.
import amqp from "amqplib";
import { RabbitMqBus } from "../../src/events/rabbitmq.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import { engineUrl } from "../support/engines.ts";

const url = engineUrl("RABBITMQ_URL", "RabbitMQ event bus tests", "amqp://guest:guest@127.0.0.1:5672");
if (url) {
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

  busOutageTest("rabbitmq", {
    port: Number(new URL(url).port || 5672),
    open: (port) => {
      const through = new URL(url);
      through.port = String(port);
      return RabbitMqBus.connect(through.toString(), { logger: silentLogger, exchange: `backroom.outage.${process.pid}` });
    },
    keepsEventsPublishedDuring: true,
  });
}
