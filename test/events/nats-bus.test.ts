// The NATS bus passes the same conformance suite as the in-process bus — when NATS_URL is set
// (.ci/run sets it). Each test uses its own connection.
import { afterEach, expect, test } from "bun:test";
import { NatsBus } from "../../src/events/nats.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { engineUrl } from "../support/engines.ts";

afterEach(killChildren); // a server left by a failed assertion must not outlive the test

const url = engineUrl("NATS_URL", "NATS event bus tests", "nats://127.0.0.1:4222");
if (url) {
  busConformance("nats", () => NatsBus.connect(url, { logger: silentLogger }), {
    largeEvent: "an event above the server's max_payload (1 MB by default) fails with MAX_PAYLOAD_EXCEEDED, is kept as if NATS were away, and holds back every later event",
  });

  test("events cross processes: a bus in another connection receives them, with NATS's own wildcards", async () => {
    const [a, b] = await Promise.all([NatsBus.connect(url, { logger: silentLogger }), NatsBus.connect(url, { logger: silentLogger })]);
    const got: string[] = [];
    b.subscribe("store7.order.*", (e) => void got.push(e.type));
    b.subscribe("store7.job.>", (e) => void got.push(e.type));
    await b.ready(); // the subscriptions reached the server
    await a.publish("store7.order.created", {});
    await a.publish("store7.job.send_receipt.completed", {});
    await a.publish("store7.order.line.added", {}); // `*` is one token: not delivered to order.*
    await a.publish("store7.order.marker", {}); // after it in order: once this is in, a wrong delivery would be too
    await waitFor(() => got.includes("store7.order.marker"), 5_000, "the marker event");
    expect(got.sort()).toEqual(["store7.job.send_receipt.completed", "store7.order.created", "store7.order.marker"]);
    await Promise.all([a.close(), b.close()]);
  });

  const stream = `BACKROOM_TEST_${process.pid}`;
  durableSubscriberTest("nats jetstream", {
    // A short acknowledgement wait: JetStream delivers an unacknowledged event again only after it.
    open: () => NatsBus.connect(url, { logger: silentLogger, stream, subjectPrefix: `bt${process.pid}.`, ackWaitMs: 1_000 }),
    subscribeDurable: (bus, pattern, handler) => bus.subscribe(pattern, handler, { durable: "head-office" }),
    async cleanup() {
      const { connect } = await import("nats");
      const admin = await connect({ servers: url });
      await (await admin.jetstreamManager()).streams.delete(stream);
      await admin.close();
    },
  });

  test("nats jetstream: a durable subscriber slower than ackWait still gets each event once", async () => {
    const slowStream = `BACKROOM_SLOW_${process.pid}`;
    const prefix = `slow${process.pid}.`;
    const ackWaitMs = 600;
    const bus = await NatsBus.connect(url, { logger: silentLogger, stream: slowStream, subjectPrefix: prefix, ackWaitMs });
    try {
      const seen: string[] = [];
      // 12 events × 100 ms: the last waits twice ackWait in the subscriber's queue before its turn.
      bus.subscribe("tick", async (e) => void (seen.push(e.id), await Bun.sleep(100)), { durable: "slow" });
      await bus.ready(); // the consumer reached the server
      const sent = [];
      for (let i = 0; i < 12; i++) sent.push((await bus.publish("tick", { i })).id);
      await waitFor(() => new Set(seen).size === 12, 5_000, "every event once");
      // A redelivery would come ackWait after a delivery; nothing announces that none is coming.
      await Bun.sleep(ackWaitMs * 2);
      expect(seen).toEqual(sent);
    } finally {
      await bus.close();
      const { connect } = await import("nats");
      const admin = await connect({ servers: url });
      await (await admin.jetstreamManager()).streams.delete(slowStream).catch(() => {});
      await admin.close();
    }
  });

  busOutageTest("nats", {
    port: Number(new URL(url).port || 4222),
    open: (port) => NatsBus.connect(`nats://127.0.0.1:${port}`, { logger: silentLogger }),
    keepsEventsPublishedDuring: true,
  });
  const outageStream = `BACKROOM_OUTAGE_${process.pid}`;
  busOutageTest("nats jetstream", {
    port: Number(new URL(url).port || 4222),
    open: (port) => NatsBus.connect(`nats://127.0.0.1:${port}`, { logger: silentLogger, stream: outageStream, subjectPrefix: `outage${process.pid}.` }),
    keepsEventsPublishedDuring: true,
    subscribeDurable: (bus, pattern, handler) => void (bus as NatsBus).subscribe(pattern, handler, { durable: "outage" }),
    async cleanup() {
      const { connect } = await import("nats");
      const admin = await connect({ servers: url });
      await (await admin.jetstreamManager()).streams.delete(outageStream).catch(() => {});
      await admin.close();
    },
  });

  test("serve --bus nats:// publishes the till's events where another process can hear them", async () => {
    const tmp = tempDir();
    const listener = await NatsBus.connect(url, { logger: silentLogger });
    const heard: { type: string; actorid?: string }[] = [];
    listener.subscribe("order.created", (e) => void heard.push(e));
    const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("shop.db"), "--dev", "--bus", url, "--log-level", "error"]);
    try {
      const base = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Backroom listening on /))![1]!;
      const book = ((await (await fetch(`${base}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
      const placed = await fetch(`${base}/api/orders`, { method: "POST", headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
      expect(placed.status).toBe(202);
      await waitFor(() => heard.length === 1, 5_000, "order.created over NATS");
      expect(heard[0]!.type).toBe("order.created");
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
      await listener.close();
      tmp.remove();
    }
  });
}
