// The RabbitMQ bus passes the bus conformance suite — when RABBITMQ_URL is set (.ci/run sets
// it) — its durable subscriptions keep what a subscriber missed while it was away, and a till
// outlives the broker going away, even at start.
import { afterEach, expect, test } from "bun:test";
import amqp from "amqplib";
import { RabbitMqBus } from "../../src/events/rabbitmq.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import { engineUrl } from "../support/engines.ts";
import { behindOutbox } from "../support/outbox-bus.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tcpProxy } from "../support/tcp-proxy.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

afterEach(killChildren); // a server left by a failed assertion must not outlive the test

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
      // Behind the durable outbox, as `serve` runs it: the events published meanwhile are kept there.
      return behindOutbox(RabbitMqBus.connect(through.toString(), { logger: silentLogger, exchange: `backroom.outage.${process.pid}` }), "RabbitMQ");
    },
    keepsEventsPublishedDuring: true,
    subscribeDurable: (bus, pattern, handler) => void (bus as RabbitMqBus).subscribe(pattern, handler, { durable: `backroom-outage-${process.pid}` }),
    async cleanup() {
      const admin = await amqp.connect(url);
      const channel = await admin.createChannel();
      await channel.deleteQueue(`backroom-outage-${process.pid}`);
      await admin.close();
    },
  });

  test("serve --bus amqp:// starts while RabbitMQ is out of reach, takes orders, and their events reach head office once it is back", async () => {
    const tmp = tempDir();
    const proxy = tcpProxy(Number(new URL(url).port || 5672));
    proxy.down(); // the till boots before the line to head office is up
    const listener = await RabbitMqBus.connect(url, { logger: silentLogger });
    const heard: string[] = [];
    listener.subscribe("order.created", (e) => void heard.push(e.type));
    await listener.ready();
    const through = new URL(url);
    through.port = String(proxy.port);
    const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("shop.db"), "--dev", "--bus", through.toString(), "--log-level", "error"]);
    try {
      const base = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Backroom listening on /))![1]!;
      const book = ((await (await fetch(`${base}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
      const placed = await fetch(`${base}/api/orders`, { method: "POST", headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
      expect(placed.status).toBe(202);
      await Bun.sleep(300);
      expect(heard).toEqual([]);
      proxy.up();
      await waitFor(() => heard.length === 1, 15_000, "order.created once RabbitMQ is reachable");
      expect(heard).toEqual(["order.created"]);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
      await listener.close();
      proxy.stop();
      tmp.remove();
    }
  }, 30_000);
}
