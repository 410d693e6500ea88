// The NATS bus passes the same conformance suite as the in-process bus — when NATS_URL is set
// (.ci/run sets it). Each test uses its own connection.
import { afterEach, expect, test } from "bun:test";
import { EventTooLargeError } from "../../src/events/bus.ts";
import { createEvent, type Event } from "../../src/events/event.ts";
import { NatsBus } from "../../src/events/nats.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { engineUrl } from "../support/engines.ts";
import { behindOutbox } from "../support/outbox-bus.ts";
import { tcpProxy } from "../support/tcp-proxy.ts";

/** An event whose JSON is exactly `bytes` long. */
function eventOfSize(type: string, bytes: number): Event {
  const bare = Buffer.byteLength(JSON.stringify(createEvent(type, "")));
  return createEvent(type, "x".repeat(bytes - bare));
}

const refusal = (publishing: Promise<unknown>) => publishing.then(() => null, (error: unknown) => error as EventTooLargeError);

async function deleteStream(url: string, stream: string): Promise<void> {
  const { connect } = await import("nats");
  const admin = await connect({ servers: url });
  await (await admin.jetstreamManager()).streams.delete(stream).catch(() => {});
  await admin.close();
}

afterEach(killChildren); // a server left by a failed assertion must not outlive the test

const url = engineUrl("NATS_URL", "NATS event bus tests", "nats://127.0.0.1:4222");
if (url) {
  // The server's max_payload (1 MiB by default): the suite's 3 MiB event is refused, and the limit itself checked.
  const probe = await NatsBus.connect(url, { logger: silentLogger });
  const maxEventBytes = probe.maxEventBytes;
  await probe.close();
  // Its own subjects: other processes on this broker (a server under load, another run) publish order.* too.
  busConformance("nats", () => NatsBus.connect(url, { logger: silentLogger, subjectPrefix: `conformance${process.pid}.` }), { maxEventBytes });

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
    // Long enough that a loaded machine's event-loop stall does not pass for a slow subscriber.
    const ackWaitMs = 1_500;
    const bus = await NatsBus.connect(url, { logger: silentLogger, stream: slowStream, subjectPrefix: prefix, ackWaitMs });
    try {
      const seen: string[] = [];
      // 12 events × 250 ms: the last waits twice ackWait in the subscriber's queue before its turn.
      bus.subscribe("tick", async (e) => void (seen.push(e.id), await Bun.sleep(250)), { durable: "slow" });
      await bus.ready(); // the consumer reached the server
      const sent = [];
      for (let i = 0; i < 12; i++) sent.push((await bus.publish("tick", { i })).id);
      await waitFor(() => new Set(seen).size === 12, 20_000, "every event once");
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

  test("an event over max_payload is refused with a message saying what to do: raise max_payload, or put large data behind a URL", async () => {
    const bus = await NatsBus.connect(url, { logger: silentLogger });
    try {
      const error = await refusal(bus.publish("bulk.report", { blob: "x".repeat(bus.maxEventBytes) }));
      expect(error).toBeInstanceOf(EventTooLargeError);
      expect(error!.message).toContain(`over the ${bus.maxEventBytes} bytes NATS takes in one message (the server's max_payload`);
      expect(error!.message).toContain("raise max_payload in the NATS server's configuration");
      expect(error!.message).toContain("put large data behind a URL");
    } finally {
      await bus.close();
    }
  });

  test("nats jetstream: an event over max_payload (less the msgID header) is refused at publish; one at the limit, and the events after, reach a durable subscriber", async () => {
    const stream = `BACKROOM_LARGE_${process.pid}`;
    const bus = await NatsBus.connect(url, { logger: silentLogger, stream, subjectPrefix: `large${process.pid}.` });
    try {
      const core = await NatsBus.connect(url, { logger: silentLogger });
      const maxPayload = core.maxEventBytes;
      await core.close();
      // JetStream publishes carry the event id as a Nats-Msg-Id header, which max_payload counts.
      expect(bus.maxEventBytes).toBe(maxPayload - "NATS/1.0\r\nNats-Msg-Id: 01J00000000000000000000000\r\n\r\n".length);
      const got: string[] = [];
      bus.subscribe("bulk.*", (e) => void got.push(e.id), { durable: "large" });
      await bus.ready();
      const over = eventOfSize("bulk.over", bus.maxEventBytes + 1);
      const error = await refusal(bus.publishEvent(over));
      expect(error).toBeInstanceOf(EventTooLargeError);
      expect(error).toMatchObject({ eventId: over.id, bytes: bus.maxEventBytes + 1, limit: bus.maxEventBytes });
      const fits = eventOfSize("bulk.fits", bus.maxEventBytes);
      await bus.publishEvent(fits);
      const after = await bus.publish("bulk.after", {});
      await waitFor(() => got.length === 2, 5_000, "the event at the limit and the one after");
      expect(got).toEqual([fits.id, after.id]);
    } finally {
      await bus.close();
      await deleteStream(url, stream);
    }
  });

  test("nats jetstream: an event over the stream's max_msg_size is refused, also when the stream was changed after the bus opened", async () => {
    const stream = `BACKROOM_SMALL_${process.pid}`;
    const prefix = `small${process.pid}.`;
    const { connect } = await import("nats");
    const admin = await connect({ servers: url });
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${prefix}>`], max_msg_size: 4_096 });
    const bus = await NatsBus.connect(url, { logger: silentLogger, stream, subjectPrefix: prefix });
    try {
      const header = "NATS/1.0\r\nNats-Msg-Id: 01J00000000000000000000000\r\n\r\n".length;
      expect(bus.maxEventBytes).toBe(4_096 - header);
      const got: string[] = [];
      bus.subscribe("tick", (e) => void got.push(e.id), { durable: "small" });
      await bus.ready();
      const known = await refusal(bus.publishEvent(eventOfSize("tick", 4_096 - header + 1)));
      expect(known).toBeInstanceOf(EventTooLargeError);
      expect(known!.message).toContain(`JetStream stream ${stream} takes (its max_msg_size)`);

      // Lowered behind the bus's back: JetStream's own refusal becomes the same typed error, with the new limit.
      await jsm.streams.update(stream, { ...(await jsm.streams.info(stream)).config, max_msg_size: 2_048 });
      const lowered = await refusal(bus.publishEvent(eventOfSize("tick", 3_000)));
      expect(lowered).toBeInstanceOf(EventTooLargeError);
      expect(lowered).toMatchObject({ bytes: 3_000, limit: 2_048 - header });
      expect(bus.maxEventBytes).toBe(2_048 - header);
      const after = await bus.publish("tick", { n: 1 });
      await waitFor(() => got.length === 1, 5_000, "the event after the refused ones");
      expect(got).toEqual([after.id]);
    } finally {
      await bus.close();
      await admin.close();
      await deleteStream(url, stream);
    }
  });

  test("nats behind the outbox: while the connection is down, an event over max_payload is still refused at once, not kept; the events kept meanwhile go out once it is back", async () => {
    const proxy = tcpProxy(Number(new URL(url).port || 4222));
    const bus = await behindOutbox(NatsBus.connect(`nats://127.0.0.1:${proxy.port}`, { logger: silentLogger }), "NATS");
    const listener = await NatsBus.connect(url, { logger: silentLogger });
    try {
      const got: string[] = [];
      listener.subscribe("cut.*", (e) => void got.push(e.type));
      await listener.ready();
      proxy.down();
      await Bun.sleep(500); // the client notices the connection is gone
      const during = await bus.publish("cut.kept", {}); // kept, as in any outage
      expect(await refusal(bus.publish("cut.large", { blob: "x".repeat(bus.maxEventBytes!) }))).toBeInstanceOf(EventTooLargeError);
      proxy.up();
      const after = await bus.publish("cut.after", {});
      await waitFor(() => got.length === 2, 20_000, "the kept event and the one after");
      expect(got).toEqual(["cut.kept", "cut.after"]);
      expect([during.type, after.type]).toEqual(got);
    } finally {
      await Promise.all([bus.close(), listener.close()]);
      proxy.stop();
    }
  }, 40_000);

  test("nats flush rejects when the connection was lost after events were published, even once it is back: a PONG on the new connection does not cover the old one's buffer", async () => {
    const proxy = tcpProxy(Number(new URL(url).port || 4222));
    const bus = await NatsBus.connect(`nats://127.0.0.1:${proxy.port}`, { logger: silentLogger });
    try {
      await bus.flush(); // nothing published: confirmed
      await bus.publishEvent(createEvent("cut.before", {}));
      proxy.down();
      await waitFor(() => bus.publishEvent(createEvent("cut.probe", {})).then(() => false, () => true), 10_000, "the client to notice the cut");
      proxy.up();
      await waitFor(() => bus.publishEvent(createEvent("cut.probe", {})).then(() => true, () => false), 20_000, "the client to reconnect");
      expect(await refusal(bus.flush())).toBeInstanceOf(Error);
      await bus.publishEvent(createEvent("cut.after", {}));
      await bus.flush(); // published on the new connection and confirmed there
    } finally {
      await bus.close();
      proxy.stop();
    }
  }, 40_000);

  busOutageTest("nats", {
    port: Number(new URL(url).port || 4222),
    // Behind the durable outbox, as `serve` runs it: the events published meanwhile are kept there.
    open: (port) => behindOutbox(NatsBus.connect(`nats://127.0.0.1:${port}`, { logger: silentLogger }), "NATS"),
    keepsEventsPublishedDuring: true,
  });
  const outageStream = `BACKROOM_OUTAGE_${process.pid}`;
  busOutageTest("nats jetstream", {
    port: Number(new URL(url).port || 4222),
    open: (port) => behindOutbox(NatsBus.connect(`nats://127.0.0.1:${port}`, { logger: silentLogger, stream: outageStream, subjectPrefix: `outage${process.pid}.` }), "NATS"),
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
    // Other processes on this broker may publish order.created too: listen for this order's.
    const heard: { type: string; subject?: string }[] = [];
    listener.subscribe("order.created", (e) => void heard.push(e as (typeof heard)[number]));
    await listener.ready(); // the subscription reached the server before the order is placed
    const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("shop.db"), "--dev", "--bus", url, "--log-level", "error"]);
    try {
      const base = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Backroom listening on /))![1]!;
      const book = ((await (await fetch(`${base}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
      const placed = await fetch(`${base}/api/orders`, { method: "POST", headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
      expect(placed.status).toBe(202);
      const orderId = ((await placed.json()) as { data: { order_id: string } }).data.order_id;
      const ours = () => heard.filter((e) => e.subject === orderId);
      await waitFor(() => ours().length > 0, 20_000, "this order's order.created over NATS");
      expect(ours().map((e) => e.type)).toEqual(["order.created"]);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
      await listener.close();
      tmp.remove();
    }
  });
}
