// The durable event outbox behind every network bus: events wait in the database file — in
// order, unbounded but watched, across a restart — while the broker is away, and go out once it
// is back; an event exists exactly when the write that caused it committed.
import { afterEach, expect, test } from "bun:test";
import { openDatabase, type Db } from "../../src/db/open.ts";
import { EventTooLargeError } from "../../src/events/bus.ts";
import { DeferredBus } from "../../src/events/deferred-bus.ts";
import { createEvent, type Event } from "../../src/events/event.ts";
import { OutboxBus, type RelayTarget } from "../../src/events/outbox-bus.ts";
import { outboxMigrations } from "../../src/events/outbox.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { broker } from "../support/outbox-bus.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp = tempDir();
let dbs: Db[] = [];
const open = () => {
  const db = openDatabase(tmp.file("till.db"), { migrations: outboxMigrations });
  dbs.push(db);
  return db;
};
afterEach(() => {
  for (const db of dbs) db.close();
  dbs = [];
  tmp.remove();
  tmp = tempDir();
});
const numbers = (events: Event[]) => events.map((e) => (e.data as { n: number }).n);
const rows = (db: Db) => (db.sqlite.query("SELECT count(*) AS n FROM event_outbox_waiting").get() as { n: number }).n;
/** A file's outbox relaying to a broker that is up; `got` lists the order.* types it delivered. */
function relayingOrders() {
  const db = open();
  const { bus: inner, state } = broker();
  state.up = true;
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: string[] = [];
  bus.subscribe("order.*", (e) => void got.push(e.type));
  return { db, bus, got, state };
}

test("while the broker refuses, events wait in the outbox in order; once it takes them they go out first, then the new ones, and leave the file", async () => {
  const db = open();
  const { bus: inner, state } = broker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test", deleteEveryMs: 20 });
  const got: Event[] = [];
  bus.subscribe("tick", (e) => void got.push(e));
  await bus.publish("tick", { n: 1 }); // resolves: durable in the file, the broker is away
  await bus.publish("tick", { n: 2 });
  expect(rows(db)).toBe(2);
  state.up = true;
  await bus.publish("tick", { n: 3 });
  await waitFor(() => got.length === 3, 5_000, "the kept events, then the new one");
  expect(numbers(got)).toEqual([1, 2, 3]);
  await waitFor(() => rows(db) === 0, 2_000, "the acknowledged events to leave the file");
  await bus.close();
});

test("behind the DeferredBus that serve puts in front, an event counts as sent only once the broker confirmed it (its flush): unconfirmed ones are sent again, as stored", async () => {
  const db = open();
  const published: string[] = [];
  let flushes = 0;
  // NATS-like: publish only fills a socket buffer; flush is the broker's confirmation. The first
  // confirmation fails (the connection dropped with the buffer unsent).
  const nats: RelayTarget = {
    publish: () => Promise.reject(new Error("the relay uses publishEvent")),
    publishEvent: async (event) => void published.push(event.id),
    flush: async () => {
      if (++flushes === 1) throw new Error("connection lost before the PONG");
    },
    subscribe: () => () => {},
    close: async () => {},
  };
  const deferred = new DeferredBus(async () => nats, silentLogger, "test");
  await deferred.opened;
  const bus = new OutboxBus(db, deferred, { logger: silentLogger, engine: "test", deleteEveryMs: 20 });
  const events = [await bus.publish("tick", { n: 1 }), await bus.publish("tick", { n: 2 })];
  await waitFor(() => flushes >= 2 && rows(db) === 0, 5_000, "a confirmed resend, then the rows gone");
  const times = (id: string) => published.filter((p) => p === id).length;
  expect(times(events[0]!.id)).toBeGreaterThanOrEqual(2); // its first confirmation failed: sent again
  for (const event of events) expect(times(event.id)).toBeGreaterThanOrEqual(1);
  await bus.close();
});

/** NATS-like behind the DeferredBus: publish only fills a buffer, flush is the confirmation. */
async function confirmingBroker() {
  const state = { published: [] as string[], flushes: 0, publishedAtFlush: [] as number[] };
  const nats: RelayTarget = {
    publish: () => Promise.reject(new Error("the relay uses publishEvent")),
    publishEvent: async (event) => void state.published.push(event.id),
    flush: async () => {
      state.flushes++;
      state.publishedAtFlush.push(state.published.length);
    },
    subscribe: () => () => {},
    close: async () => {},
  };
  const deferred = new DeferredBus(async () => nats, silentLogger, "test");
  await deferred.opened;
  return { bus: deferred, state };
}

test("events of many commits are published as each commits and confirmed by one flush, not one per commit; the rows leave the file once confirmed", async () => {
  const db = open();
  const { bus: inner, state } = await confirmingBroker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test", deleteEveryMs: 60_000 });
  const ids: string[] = [];
  for (let n = 0; n < 50; n++) {
    ids.push((await bus.publish("tick", { n })).id); // 50 commits, one after another
    await waitFor(() => state.published.length === n + 1, 2_000, `event ${n} published after its commit`);
  }
  expect(state.flushes).toBe(0); // published, not yet confirmed: the rows stay
  expect(rows(db)).toBe(50);
  await bus.close(); // confirms (one flush for all 50), then deletes them
  expect(state.flushes).toBe(1);
  expect(state.published).toEqual(ids);
  expect(rows(db)).toBe(0);
});

test("at most a batch's worth waits unconfirmed: past it the relay flushes before publishing more", async () => {
  const db = open();
  const { bus: inner, state } = await confirmingBroker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test", batchSize: 10, deleteEveryMs: 60_000 });
  await Promise.all(Array.from({ length: 35 }, (_, n) => bus.publish("tick", { n })));
  await waitFor(() => state.published.length === 35, 5_000, "all 35 published");
  expect(state.flushes).toBeGreaterThanOrEqual(3);
  // Each flush came once the unconfirmed ones reached the batch size, never later.
  state.publishedAtFlush.forEach((published, i) => expect(published - (state.publishedAtFlush[i - 1] ?? 0)).toBeLessThanOrEqual(10));
  await bus.close();
  expect(rows(db)).toBe(0);
});

test("a unit rolled back to its savepoint inside a group-commit batch drops only its own events; the batch's others are relayed", async () => {
  const { db, bus, got } = relayingOrders();
  const first = db.write(() => bus.keep(createEvent("order.first", {})));
  const failed = db.write(() => {
    bus.keep(createEvent("order.failed", {}));
    throw new Error("this order failed");
  });
  const last = db.write(() => bus.keep(createEvent("order.last", {})));
  await expect(failed).rejects.toThrow("this order failed");
  await Promise.all([first, last]); // one batch, one commit
  await waitFor(() => got.length === 2, 2_000, "the batch's committed events");
  expect(got).toEqual(["order.first", "order.last"]);
  await bus.close();
  expect(rows(db)).toBe(0);
});

test("20,000 events while the broker is away: none dropped past the old in-memory limit of 10,000, all delivered in order", async () => {
  const db = open();
  const { bus: inner, state } = broker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: number[] = [];
  bus.subscribe("tick", (e) => void got.push((e.data as { n: number }).n));
  for (let from = 0; from < 20_000; from += 1_000) await Promise.all(Array.from({ length: 1_000 }, (_, k) => bus.publish("tick", { n: from + k })));
  expect(rows(db)).toBe(20_000);
  state.up = true;
  await waitFor(() => got.length === 20_000, 20_000, "all 20,000 events");
  expect(got).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
  await bus.close();
}, 30_000);

test("events still in the outbox when the process stops are sent by the next one on the same file, with their ids", async () => {
  const first = open();
  const down = broker();
  const before = new OutboxBus(first, down.bus, { logger: silentLogger, engine: "test" });
  const kept = [await before.publish("tick", { n: 1 }), await before.publish("tick", { n: 2 })];
  await before.close();
  first.close();
  dbs = [];
  const { bus: inner, state } = broker();
  state.up = true;
  const got: Event[] = [];
  inner.subscribe("tick", (e) => void got.push(e));
  const after = new OutboxBus(open(), inner, { logger: silentLogger, engine: "test" });
  await waitFor(() => got.length === 2, 5_000, "the events kept by the previous process");
  expect(got.map((e) => e.id)).toEqual(kept.map((e) => e.id));
  await after.close();
});

test("an event kept in a write that rolls back never exists; one kept in a group-committed write is not relayed before its commit", async () => {
  const { db, bus, got } = relayingOrders();
  expect(() => db.transaction(() => {
    bus.keep(createEvent("order.rolled_back", {}));
    throw new Error("the order failed");
  })).toThrow("the order failed");
  const written = db.write(() => bus.keep(createEvent("order.created", {})));
  expect(bus.outbox.next(10)).toEqual([]); // written, not committed: invisible to the relay
  await written;
  await waitFor(() => got.length === 1, 2_000, "the committed event");
  expect(got).toEqual(["order.created"]);
  expect(rows(db) <= 1).toBe(true);
  await bus.close();
});

test("an event over the broker's known limit is refused at publish and never kept; one kept before the limit was known is dropped with an error, and the events behind it go out", async () => {
  const db = open();
  const logged: { level: string; msg: string }[] = [];
  const logger: Logger = { log: (level, msg) => void logged.push({ level, msg }) };
  const { bus: inner, state } = broker({ maxEventBytes: 400 });
  const bus = new OutboxBus(db, inner, { logger, engine: "test" });
  const got: string[] = [];
  bus.subscribe("till.*", (e) => void got.push(e.type));
  await bus.publish("till.sale", {});
  await bus.publish("till.huge", { blob: "x".repeat(1_000) }); // the limit is not known yet: kept
  await bus.publish("till.refund", {});
  state.up = true;
  await waitFor(() => got.length === 2, 5_000, "the events around the huge one");
  expect(got).toEqual(["till.sale", "till.refund"]);
  expect(logged).toContainEqual({ level: "error", msg: "test refuses an event from the outbox: dropped" });
  (inner as { maxEventBytes?: number }).maxEventBytes = 400; // now the broker has said
  expect(await bus.publish("till.huge", { blob: "x".repeat(1_000) }).then(() => null, (e: unknown) => e)).toBeInstanceOf(EventTooLargeError);
  bus.keep(createEvent("till.huge", { blob: "x".repeat(1_000) })); // in a write: logged, never thrown into it
  expect(logged.filter((l) => l.msg === "test would refuse this event: not kept")).toHaveLength(1);
  await bus.close();
});

test("a growing outbox is a metric and a warning, never a drop", async () => {
  const db = open();
  const warnings: Record<string, unknown>[] = [];
  const logger: Logger = { log: (level, msg, fields) => void (level === "warn" && msg.includes("outbox grows") && warnings.push(fields ?? {})) };
  const { bus: inner } = broker();
  const bus = new OutboxBus(db, inner, { logger, engine: "test", warnEvents: 5 });
  for (let n = 0; n < 8; n++) await bus.publish("tick", { n });
  await waitFor(() => warnings.length === 1, 5_000, "the warning");
  expect(warnings[0]).toMatchObject({ warn_events: 5 });
  expect(warnings[0]!.events as number).toBeGreaterThan(5);
  const metrics = await new BackroomMetrics(db).render();
  expect(metrics).toContain("backroom_event_outbox_events 8");
  expect(metrics).toMatch(/backroom_event_outbox_oldest_age_seconds \d/);
  expect(rows(db)).toBe(8);
  await bus.close();
});
