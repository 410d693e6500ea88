// The RabbitMQ bus passes the bus conformance suite — when RABBITMQ_URL is set (.ci/run sets
// it) — and its durable subscriptions keep what a subscriber missed while it was away.
import { describe, expect, test } from "bun:test";
import amqp from "amqplib";
import { RabbitMqBus } from "../../src/events/rabbitmq.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { busConformance } from "./bus-conformance.ts";

const url = process.env.RABBITMQ_URL;
if (!url) {
  console.warn("SKIPPED: RabbitMQ event bus tests (set RABBITMQ_URL, e.g. amqp://guest:guest@127.0.0.1:5672)");
  describe.skip("RabbitMQ bus (RABBITMQ_URL not set)", () => test("needs RabbitMQ", () => {}));
} else {
  let n = 0;
  busConformance("rabbitmq", () => RabbitMqBus.connect(url, { logger: silentLogger, exchange: `backroom.test.${process.pid}.${++n}` }));

  test("a durable subscriber that was down receives what it missed; wildcards follow AMQP's", async () => {
    const exchange = `backroom.durable.${process.pid}`;
    const queueName = `backroom-durable-${process.pid}`;
    const publisher = await RabbitMqBus.connect(url, { logger: silentLogger, exchange });
    const first = await RabbitMqBus.connect(url, { logger: silentLogger, exchange });
    const seen: string[] = [];
    first.subscribe("till.order.*", (e) => void seen.push(e.type), { durable: queueName });
    await first.ready();
    await publisher.publish("till.order.created", { n: 1 });
    await waitFor(() => seen.length === 1);
    await first.close(); // the subscriber goes away; its durable queue stays
    await publisher.publish("till.order.updated", { n: 2 });
    await publisher.publish("till.order.line.added", { n: 3 }); // `*` is one word: not for this subscription
    await publisher.publish("till.order.deleted", { n: 4 });
    await Bun.sleep(100);
    const again = await RabbitMqBus.connect(url, { logger: silentLogger, exchange });
    const later: string[] = [];
    again.subscribe("till.order.*", (e) => void later.push(e.type), { durable: queueName });
    await waitFor(() => later.length === 2, 5_000, "the missed events");
    expect(later).toEqual(["till.order.updated", "till.order.deleted"]);
    await Promise.all([again.close(), publisher.close()]);
    const admin = await amqp.connect(url);
    const channel = await admin.createChannel();
    await channel.deleteQueue(queueName);
    await channel.deleteExchange(exchange);
    await admin.close();
  });
}
