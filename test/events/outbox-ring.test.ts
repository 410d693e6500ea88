// The file's outbox keeps events in a ring of slots overwritten in place (src/events/outbox.ts):
// a slot is taken again only once the broker acknowledged its event, a full ring overflows to a
// table instead of overwriting an unsent event, reads merge the two in order, a restart sends
// again only what lies above the recorded high-water mark, and a file written by the first
// outbox (one row per event) upgrades in place. Rings of a few slots, so a lap takes a few events.
import { afterEach, expect, test } from "bun:test";
import { openDatabase, type Db } from "../../src/db/open.ts";
import { createEvent, type Event } from "../../src/events/event.ts";
import { OutboxBus } from "../../src/events/outbox-bus.ts";
import { OUTBOX_SQL, outboxMigrations } from "../../src/events/outbox.ts";
import { silentLogger } from "../../src/log.ts";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { broker } from "../support/outbox-bus.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp = tempDir();
let dbs: Db[] = [];
/** The till's file, its ring cut to `slots` (the file's own setting, as the migration stores it). */
const open = (slots = 8, migrations = outboxMigrations) => {
  const db = openDatabase(tmp.file("till.db"), { migrations });
  if (migrations.length > 1) db.sqlite.run("UPDATE event_outbox_state SET ring_slots = ?", [slots]);
  dbs.push(db);
  return db;
};
const reopen = (db: Db, slots = 8) => {
  db.close();
  dbs = dbs.filter((d) => d !== db);
  return open(slots);
};
afterEach(() => {
  for (const db of dbs) db.close();
  dbs = [];
  tmp.remove();
  tmp = tempDir();
});
const count = (db: Db, table: string) => (db.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
const ticks = (events: Event[]) => events.map((e) => (e.data as { n: number }).n);
const plan = (db: Db, sql: string) => (db.sqlite.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(" | ");

test("an acknowledged event's slot is taken again: 30 events through a ring of 8 slots leave 8 rows and none in the overflow, each delivered once, in order", async () => {
  const db = open(8);
  const { bus: inner, state } = broker();
  state.up = true;
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: Event[] = [];
  bus.subscribe("tick", (e) => void got.push(e));
  for (let n = 1; n <= 30; n++) {
    await bus.publish("tick", { n });
    await waitFor(() => got.length === n, 2_000, `event ${n} delivered`); // acknowledged: its slot is free for the lap after
  }
  expect(ticks(got)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect(count(db, "event_outbox_ring")).toBe(8);
  expect(count(db, "event_outbox")).toBe(0);
  // The slots hold the last lap, each at seq % 8.
  const slots = db.sqlite.query("SELECT slot, seq FROM event_outbox_ring ORDER BY slot").all() as { slot: number; seq: number }[];
  expect(slots.map((s) => s.seq).sort((a, b) => a - b)).toEqual([23, 24, 25, 26, 27, 28, 29, 30]);
  for (const { slot, seq } of slots) expect(slot).toBe(seq % 8);
  await bus.close();
  expect(count(db, "event_outbox_waiting")).toBe(0);
});

test("a full ring never overwrites an event the broker has not acknowledged: later events wait in the overflow, and all go out in seq order across ring and overflow", async () => {
  const db = open(4);
  const { bus: inner, state } = broker();
  state.up = true;
  state.allow = 3; // the broker takes events 1-3, then goes away
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: Event[] = [];
  bus.subscribe("tick", (e) => void got.push(e));
  await Promise.all([1, 2, 3, 4, 5, 6].map((n) => bus.publish("tick", { n }))); // one commit: nothing acknowledged yet
  expect(count(db, "event_outbox_ring")).toBe(4); // 1-4
  expect(count(db, "event_outbox")).toBe(2); // 5 and 6: their slots hold 1 and 2, unsent
  await waitFor(() => got.length === 3, 2_000, "events 1-3 acknowledged");
  await bus.publish("tick", { n: 7 }); // slot 3 held event 3, acknowledged: taken
  await bus.publish("tick", { n: 8 }); // slot 0 holds event 4, unsent: overflow
  expect(count(db, "event_outbox")).toBe(3);
  expect((db.sqlite.query("SELECT seq FROM event_outbox_ring WHERE slot = 0").get() as { seq: number }).seq).toBe(4);
  expect(count(db, "event_outbox_waiting")).toBe(7); // the file's mark is not recorded yet: 1 and 2 still count (3's slot holds 7)
  expect(await new BackroomMetrics(db).render()).toContain("backroom_event_outbox_events 7");
  state.allow = Infinity; // back
  await waitFor(() => got.length === 8, 5_000, "events 4-8");
  expect(ticks(got)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  await bus.close(); // records the mark: the overflow rows under it go
  expect(count(db, "event_outbox")).toBe(0);
  expect(count(db, "event_outbox_waiting")).toBe(0);
});

test("after a clean stop the next process sends nothing again (the ring still holds the sent events, under the mark) and numbers new events on from the highest", async () => {
  const first = open(8);
  const up = broker();
  up.state.up = true;
  const before = new OutboxBus(first, up.bus, { logger: silentLogger, engine: "test" });
  const sent: Event[] = [];
  before.subscribe("tick", (e) => void sent.push(e));
  for (let n = 1; n <= 5; n++) await before.publish("tick", { n });
  await waitFor(() => sent.length === 5, 2_000, "the first process's events");
  await before.close();
  const db = reopen(first);
  expect(count(db, "event_outbox_ring")).toBe(5);
  const { bus: inner, state } = broker();
  state.up = true;
  const after = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: Event[] = [];
  after.subscribe("tick", (e) => void got.push(e));
  const fresh = await after.publish("tick", { n: 6 });
  await waitFor(() => got.length >= 1, 2_000, "the new event");
  await after.close();
  expect(got.map((e) => e.id)).toEqual([fresh.id]);
  expect((db.sqlite.query("SELECT seq FROM event_outbox_ring WHERE slot = 6").get() as { seq: number }).seq).toBe(6);
});

test("a file written by the first outbox (one row per event) upgrades in place: the events it kept go out first, in order, then new ones, and none again after a restart", async () => {
  const old = open(8, outboxMigrations.slice(0, 1));
  const kept = [1, 2, 3].map((n) => ({ id: `old-${n}`, type: "tick", data: { n } }));
  for (const [i, event] of kept.entries()) old.sqlite.run("INSERT INTO event_outbox (seq, created_at, event) VALUES (?, ?, ?)", [i + 1, Date.now(), JSON.stringify(event)]);
  let db = reopen(old); // migrates to the ring
  expect(db.sqlite.query("SELECT max(version) AS v FROM backroom_schema WHERE component = 'events'").get()).toEqual({ v: 2 });
  const { bus: inner, state } = broker();
  state.up = true;
  const got: Event[] = [];
  inner.subscribe("tick", (e) => void got.push(e)); // before the relay starts: the kept events go at once
  let bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  await bus.publish("tick", { n: 4 });
  await waitFor(() => got.length === 4, 2_000, "the old events, then the new one");
  expect(ticks(got)).toEqual([1, 2, 3, 4]);
  expect(got.slice(0, 3).map((e) => e.id)).toEqual(["old-1", "old-2", "old-3"]);
  await bus.close();
  expect(count(db, "event_outbox")).toBe(0);
  db = reopen(db);
  bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  await bus.publish("tick", { n: 5 });
  await waitFor(() => got.length >= 5, 2_000, "the next event");
  await bus.close();
  expect(ticks(got)).toEqual([1, 2, 3, 4, 5]);
});

test("the relay's reads are range scans of each table's rowid; the mark and the overflow's delete touch no other row", () => {
  const db = open(8);
  expect(plan(db, OUTBOX_SQL.slots)).toBe("SEARCH event_outbox_ring USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)");
  expect(plan(db, OUTBOX_SQL.overflow)).toBe("SEARCH event_outbox USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)");
  expect(plan(db, OUTBOX_SQL.deleteOverflowUpTo)).toBe("SEARCH event_outbox USING INTEGER PRIMARY KEY (rowid<?)");
  expect(plan(db, OUTBOX_SQL.acknowledge)).toBe("SEARCH event_outbox_state USING INTEGER PRIMARY KEY (rowid=?)");
});

test("a rolled-back write of more events than a read step leaves a gap in the seqs that the relay reads past", async () => {
  const db = open(8);
  const { bus: inner, state } = broker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const got: Event[] = [];
  bus.subscribe("tick", (e) => void got.push(e));
  for (const n of [1, 2, 3]) await bus.publish("tick", { n });
  expect(() => db.transaction(() => {
    for (let n = 0; n < 1_200; n++) bus.keep(createEvent("tick", { n: -1 }));
    throw new Error("the write failed");
  })).toThrow("the write failed");
  for (const n of [4, 5]) await bus.publish("tick", { n });
  state.up = true; // the relay reads the file (the broker refused: nothing is cached)
  await waitFor(() => got.length === 5, 5_000, "the events around the gap");
  expect(ticks(got)).toEqual([1, 2, 3, 4, 5]);
  await bus.close();
});

test("the ring stays in the page cache: the connection's cache grows by a KiB a slot over SQLite's default, a lap of order-sized events fits in that, and a cache set larger is kept", async () => {
  const db = open(4096);
  const { bus: inner } = broker();
  const bus = new OutboxBus(db, inner, { logger: silentLogger, engine: "test" });
  const cacheKib = () => -(db.sqlite.query("PRAGMA cache_size").get() as { cache_size: number }).cache_size;
  expect(cacheKib()).toBe(2000 + 4096);
  // A lap of events a little larger than an order's (~600 bytes of JSON each, against ~540): the ring's pages must fit
  // in what the cache grew by, or each overwrite a lap later reads its page back.
  for (let tx = 0; tx < 64; tx++) db.transaction(() => { for (let i = 0; i < 64; i++) bus.keep(createEvent("order.created", { n: tx * 64 + i, lines: "x".repeat(380) })); });
  expect(count(db, "event_outbox_ring")).toBe(4096);
  const ringKib = (db.sqlite.query("SELECT sum(pgsize) AS bytes FROM dbstat WHERE name = 'event_outbox_ring'").get() as { bytes: number }).bytes / 1024;
  expect(ringKib).toBeGreaterThan(2000); // larger than SQLite's default cache: why it grows
  expect(ringKib).toBeLessThan(4096);
  await bus.close();

  const larger = reopen(db, 8);
  larger.sqlite.run("PRAGMA cache_size = -100000");
  const again = new OutboxBus(larger, inner, { logger: silentLogger, engine: "test" });
  expect(-(larger.sqlite.query("PRAGMA cache_size").get() as { cache_size: number }).cache_size).toBe(100000);
  await again.close();
});
