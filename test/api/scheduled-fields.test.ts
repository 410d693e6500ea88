// The scheduled-fields runner on an injected clock: due rows transition through the model
// store (hooks, events), nothing else does, downtime is caught up in batches, and the runner
// sleeps, wakes and stops as it says. Nothing here waits for real time to pass.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { defineModel } from "../../src/models/model.ts";
import { ScheduledFields } from "../../src/models/scheduled-runner.ts";
import { ManualClock } from "../../src/clock.ts";
import type { Event } from "../../src/events/event.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { testApp } from "./support.ts";

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;

const Post = defineModel({
  name: "Post",
  table: "posts",
  fields: t.Object({
    title: t.String(),
    status: t.Union([t.Literal("draft"), t.Literal("published"), t.Literal("withdrawn")]),
    publish_at: t.Optional(t.String({ format: "date-time" })),
  }),
  scheduled: [{ name: "publish", field: "publish_at", where: { status: "draft" }, set: { status: "published" } }],
});
const Invoice = defineModel({
  name: "Invoice",
  table: "invoices",
  fields: t.Object({ amount_cents: t.Integer(), state: t.Union([t.Literal("unpaid"), t.Literal("paid"), t.Literal("expired")]) }),
  scheduled: [{ name: "expire", field: "created_at", after: 30 * MINUTE, where: { state: "unpaid" }, set: { state: "expired" } }],
});

let clock: ManualClock;
let bus: InProcessBus;
let events: Event[];
let env: ReturnType<typeof testApp>;
let runners: ScheduledFields[];
beforeEach(() => {
  clock = new ManualClock(Date.parse("2026-03-01T09:00:00Z"));
  bus = new InProcessBus({ logger: silentLogger });
  events = [];
  bus.subscribe(">", (e) => void events.push(e));
  env = testApp({ models: [Post, Invoice], clock, bus });
  runners = [];
});
afterEach(async () => {
  for (const r of runners) await r.stop();
  await bus.close();
  env.db.close();
});

const runner = (options: { batchSize?: number; services?: typeof env.services } = {}) => {
  const r = new ScheduledFields({ services: options.services ?? env.services, models: [Post, Invoice], batchSize: options.batchSize, logger: silentLogger });
  runners.push(r);
  return r;
};
const system = () => ({ auth: null, services: env.services });
const iso = (ms: number) => new Date(ms).toISOString();
type Row = Record<string, unknown> & { id: string };
const post = (title: string, publishAt: number | null, status = "draft") =>
  env.services.model("posts").create({ title, status, ...(publishAt === null ? {} : { publish_at: iso(publishAt) }) }, system()) as Row;
const invoice = (state = "unpaid") => env.services.model("invoices").create({ amount_cents: 100, state }, system()) as Row;
const statusOf = (table: string, id: string) => env.services.model(table).get(id);
const count = (sql: string) => (env.db.sqlite.query(sql).get() as { n: number }).n;

describe("applying due transitions", () => {
  test("a due row transitions through the model store, and its {model}.updated event is published after the commit", async () => {
    const due = post("Due", clock.now() - MINUTE);
    expect(await runner().runDue()).toBe(1);
    expect(statusOf("posts", due.id)).toMatchObject({ status: "published", updated_at: iso(clock.now()) });
    await waitFor(() => events.some((e) => e.type === "post.updated"), 1_000, "post.updated");
    const updated = events.filter((e) => e.type === "post.updated");
    expect(updated.map((e) => [e.subject, (e.data as { status: string }).status])).toEqual([[due.id, "published"]]);
  });

  test("a row not yet due is left alone until its time comes", async () => {
    const later = post("Later", clock.now() + 2 * MINUTE);
    const undated = post("No date", null);
    const r = runner();
    expect(await r.runDue()).toBe(0);
    expect(statusOf("posts", later.id)!.status).toBe("draft");
    expect(r.nextDueAt()).toBe(clock.now() + 2 * MINUTE);
    clock.advance(2 * MINUTE);
    expect(await r.runDue()).toBe(1);
    expect(statusOf("posts", later.id)!.status).toBe("published");
    expect(statusOf("posts", undated.id)!.status).toBe("draft");
    expect(r.nextDueAt()).toBeNull();
  });

  test("an offset counts from the field: an unpaid invoice expires 30 minutes after created_at, a paid one never", async () => {
    const unpaid = invoice();
    const paid = invoice("paid");
    const r = runner();
    clock.advance(30 * MINUTE - 1);
    expect(await r.runDue()).toBe(0);
    expect(r.nextDueAt()).toBe(clock.now() + 1);
    clock.advance(1);
    expect(await r.runDue()).toBe(1);
    expect([statusOf("invoices", unpaid.id)!.state, statusOf("invoices", paid.id)!.state]).toEqual(["expired", "paid"]);
  });

  test("a row that left the from-state after the due read is not clobbered, even by the UPDATE itself", async () => {
    const [a, b, c] = [post("A", clock.now() - 3), post("B", clock.now() - 2), post("C", clock.now() - 1)];
    // While the runner applies A, someone withdraws B through the store (B was already read as due) …
    env.services.pipeline.register(({ record }) => void (record.id === a.id && env.services.model("posts").update(b.id, { status: "withdrawn" }, system())), { model: "Post", position: "after", operations: ["update"] });
    // … and a hook that bypasses the store moves C away between the runner's read of C and its UPDATE.
    env.services.pipeline.register(({ previous }) => void (previous?.id === c.id && env.db.sqlite.run("UPDATE posts SET status = 'withdrawn' WHERE id = ?", [c.id])), { model: "Post", position: "before", operations: ["update"] });
    expect(await runner().runDue()).toBe(1);
    expect(statusOf("posts", a.id)!.status).toBe("published");
    expect(statusOf("posts", b.id)!.status).toBe("withdrawn");
    // C's guarded UPDATE matched nothing: its savepoint, the hook's write included, was rolled back.
    expect(statusOf("posts", c.id)!.status).toBe("draft");
    await waitFor(() => events.filter((e) => e.type === "post.updated").length >= 2, 1_000, "events");
    const updated = events.filter((e) => e.type === "post.updated").map((e) => [e.subject, (e.data as { status: string }).status]);
    expect(updated.sort()).toEqual([
      [a.id, "published"],
      [b.id, "withdrawn"],
    ]);
  });

  test("a row a hook refuses is logged and skipped; the rest of its batch is applied, and it is retried after the longest sleep", async () => {
    const [good, bad] = [post("Good", clock.now() - 2), post("Bad", clock.now() - 1)];
    const logged: string[] = [];
    env.services.pipeline.register(({ previous }) => {
      if (previous?.title === "Bad") throw new Error("not today");
    }, { model: "Post", position: "before", operations: ["update"] });
    const r = new ScheduledFields({ services: env.services, models: [Post], logger: { log: (_level, msg, fields) => void logged.push(`${msg}: ${fields?.error}`) } });
    runners.push(r);
    r.start();
    await r.runDue();
    expect(statusOf("posts", good.id)!.status).toBe("published");
    expect(statusOf("posts", bad.id)!.status).toBe("draft");
    expect(logged).toContain("a scheduled transition was refused: not today");
    expect(r.sleepingUntil).toBe(clock.now() + 60_000);
  });
});

describe("downtime", () => {
  test("after three days off, all 2,500 rows that fell due are applied on start, 500 per transaction, each once", async () => {
    for (let i = 0; i < 5; i++) {
      env.db.transaction(() => {
        for (let j = 0; j < 500; j++) invoice();
      });
      clock.advance(10 * MINUTE);
    }
    const notDue = env.db.transaction(() => invoice("paid"));
    clock.advance(3 * DAY); // the till was off

    const next = testApp({ db: env.db, queue: env.queue, models: [Post, Invoice], clock, bus }); // a new process on the same file
    let transactions = 0;
    const transaction = next.db.transaction.bind(next.db);
    next.db.transaction = ((fn: () => unknown) => {
      if (!next.db.sqlite.inTransaction) transactions++;
      return transaction(fn);
    }) as typeof next.db.transaction;
    const r = runner({ services: next.services });
    r.start();
    expect(await r.runDue()).toBe(2_500); // joins the run start() began
    next.db.transaction = transaction;

    expect(transactions).toBe(5);
    expect(count("SELECT count(*) AS n FROM invoices WHERE state = 'expired'")).toBe(2_500);
    expect(statusOf("invoices", notDue.id)!.state).toBe("paid");
    await waitFor(() => events.filter((e) => e.type === "invoice.updated").length === 2_500, 2_000, "2,500 events");
    expect(new Set(events.filter((e) => e.type === "invoice.updated").map((e) => e.subject)).size).toBe(2_500);
    expect(r.nextDueAt()).toBeNull();
    expect(r.sleepingUntil).toBe(clock.now() + 60_000);
  });
});

describe("sleeping, waking and stopping", () => {
  test("it sleeps until the next row falls due, and a write that makes one due sooner wakes it", async () => {
    const r = runner().start();
    await r.runDue();
    expect(r.sleepingUntil).toBe(clock.now() + 60_000); // nothing waits: the longest sleep
    post("Soon", clock.now() + 5 * MINUTE);
    expect(r.sleepingUntil).toBe(clock.now() + 60_000); // five minutes is later than the sleep already planned
    post("Sooner", clock.now() + 20_000);
    expect(r.sleepingUntil).toBe(clock.now() + 20_000); // re-armed at the write's commit
    const now = post("Now", clock.now() - 1);
    await waitFor(() => statusOf("posts", now.id)!.status === "published", 1_000, "the runner to wake on its own");
    await waitFor(() => events.some((e) => e.type === "post.updated" && e.subject === now.id), 1_000, "its event");
    await waitFor(() => r.sleepingUntil === clock.now() + 20_000, 1_000, "the sleep until Sooner");
  });

  test("stop() during a batch lets that batch commit whole, then nothing runs until the next start", async () => {
    env.db.transaction(() => {
      for (let i = 0; i < 2_500; i++) invoice();
    });
    clock.advance(DAY);
    const r = runner({ batchSize: 500 });
    let stopped: Promise<void> | null = null;
    // A shutdown signal that arrives while the first batch is being applied.
    env.services.pipeline.register(() => void (stopped ??= r.stop()), { model: "Invoice", position: "after", operations: ["update"] });
    r.start();
    await waitFor(() => stopped !== null, 1_000, "the first batch");
    await stopped;
    expect(count("SELECT count(*) AS n FROM invoices WHERE state = 'expired'")).toBe(500);
    expect(r.sleepingUntil).toBeNull();
    const dueNow = post("After stop", clock.now() - 1);
    await Promise.resolve(); // a stopped runner registers no wake: nothing is pending
    expect(r.sleepingUntil).toBeNull();
    r.start();
    await r.runDue();
    expect(count("SELECT count(*) AS n FROM invoices WHERE state = 'expired'")).toBe(2_500);
    expect(statusOf("posts", dueNow.id)!.status).toBe("published");
  });
});
