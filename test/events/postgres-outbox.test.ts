// The job events' outbox on a PostgreSQL queue (src/events/postgres-outbox.ts): a job's events
// are written in the settle's own transaction (and roll back with it), one relay at a time
// publishes them in order and deletes what the broker acknowledged, and a broker outage loses
// nothing. Runs when DATABASE_URL is set; each test has tables of its own.
import { afterAll, afterEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { createEvent, type Event } from "../../src/events/event.ts";
import { jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { OutboxBus, type RelayTarget } from "../../src/events/outbox-bus.ts";
import { PostgresEventOutbox } from "../../src/events/postgres-outbox.ts";
import { PostgresQueue, type SettleOutbox } from "../../src/jobs/postgres.ts";
import type { Handler } from "../../src/jobs/attempt.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { engineUrl } from "../support/engines.ts";
import { waitFor } from "../support/wait.ts";

const url = engineUrl("DATABASE_URL", "PostgreSQL job-event outbox", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 8 });
  afterAll(() => sql.close());
  let n = 0;
  let tables: string[] = [];
  let closers: (() => Promise<unknown>)[] = [];
  // PostgreSQL breaks a lock cycle by failing one side (40P01). The worker retries its own side;
  // the test's statements that run beside a worker (or a settle a loaded machine left in flight
  // past shutdown's grace) are retried the same way, so a cycle never fails the test.
  const retryingDeadlocks = async (statement: string) => {
    for (let tries = 1; ; tries++) {
      try {
        return await sql.unsafe(statement);
      } catch (error) {
        if (tries === 5 || !/deadlock detected/.test(String(error))) throw error;
      }
    }
  };
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    for (const t of tables) await retryingDeadlocks(`DROP TABLE IF EXISTS ${t}, ${t}_events, ${t}_queues, ${t}_queue_succeeded`);
    tables = [];
    closers = [];
  });

  /** A fresh queue table (and its events table) with an event outbox on it. */
  async function fresh(pollMs = 50) {
    const table = `pgob_${process.pid}_${++n}`;
    tables.push(table);
    const store = new PostgresEventOutbox({ sql, table, pollMs });
    const queue = new PostgresQueue({ sql, table, eventOutbox: store });
    await queue.migrate();
    const count = async () => Number(((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}_events`)) as { n: number }[])[0]!.n);
    return { table, store, queue, count };
  }

  /** A broker the test switches on and off; `sent` counts what each relay handed it. */
  function broker() {
    const inner = new InProcessBus({ logger: silentLogger, maxQueued: 100_000 });
    const state = { up: true, sent: 0 };
    const bus: RelayTarget = {
      publish: () => Promise.reject(new Error("the relay uses publishEvent")),
      async publishEvent(event) {
        if (!state.up) throw new Error("connection refused");
        state.sent++;
        await inner.publishEvent(event);
      },
      subscribe: (pattern, handler) => inner.subscribe(pattern, handler),
      close: async () => {},
    };
    return { bus, state };
  }

  function relay(store: PostgresEventOutbox, inner: RelayTarget) {
    const bus = new OutboxBus(store, inner, { logger: silentLogger, engine: "test", deleteEveryMs: 20 });
    closers.push(() => bus.close());
    return bus;
  }

  function worker(queue: PostgresQueue, bus: OutboxBus, handlers: Record<string, Handler> = { work: () => ({ output: { ok: true } }) }) {
    const w = new Worker({ source: queue, handlers, concurrency: 4, logger: silentLogger, status: [jobEventSink(bus)], pollIntervalMs: 50 }).start();
    closers.push(() => w.shutdown(2_000));
    return w;
  }

  const perJob = (events: Event[]) => {
    const byJob = new Map<string, string[]>();
    for (const e of events) {
      const id = (e.data as { job_id: string }).job_id;
      byJob.set(id, [...(byJob.get(id) ?? []), e.type]);
    }
    return byJob;
  };

  test("a settle writes its jobs' events in its own transaction: they exist once it commits, and not when it rolls back", async () => {
    const { table, store, count } = await fresh();
    // The store as the queue sees it, made to fail the transaction after the events are written
    // (as a failed commit would): the settle and its events must go together.
    let failAfterWriting = true;
    const eventOutbox: SettleOutbox = {
      async keepDuring(during, tx) {
        await store.keepDuring(during, tx);
        if (failAfterWriting) await tx.unsafe(`SELECT 1/0`);
      },
    };
    const queue = new PostgresQueue({ sql, table, eventOutbox });
    const id = await queue.enqueue({ type: "work", payload: {} });
    const [job] = (await queue.settleAndClaim([], 1, 30_000)).claimed;
    let calls = 0;
    const keep = () => {
      calls++;
      const event = createEvent("job.work.completed", { job_id: job!.id });
      void store.add(event, JSON.stringify(event)); // what the worker's job-event sink does
    };
    const outcome = { kind: "succeeded" as const, job: job!, result: { output: 1 }, at: Date.now() };

    await expect(queue.settleAndClaim([outcome], 0, 30_000, { inTransaction: keep })).rejects.toThrow(/division by zero/);
    expect(calls).toBe(1);
    expect(await count()).toBe(0);
    expect((await queue.getStatus(id))!.status).toBe("running");

    failAfterWriting = false; // the same settle, committing: the job and its event together
    const { applied } = await queue.settleAndClaim([outcome], 0, 30_000, { inTransaction: keep });
    expect(applied.length).toBe(1);
    expect((await queue.getStatus(id))!.status).toBe("succeeded");
    expect(await count()).toBe(1);
  });

  test("a worker's job events go out in order per job from the settle transactions, and leave the table once acknowledged", async () => {
    const { queue, store, count } = await fresh();
    const { bus: inner } = broker();
    const bus = relay(store, inner);
    const got: Event[] = [];
    bus.subscribe("job.>", (e) => void got.push(e));
    const ids = await queue.enqueueMany(Array.from({ length: 200 }, (_, i) => ({ type: "work", payload: { i } })));
    worker(queue, bus);
    await waitFor(() => got.length === 400, 20_000, "a started and a completed event per job");
    const byJob = perJob(got);
    expect([...byJob.keys()].sort()).toEqual([...ids].sort());
    for (const types of byJob.values()) expect(types).toEqual(["job.work.started", "job.work.completed"]);
    expect(new Set(got.map((e) => e.id)).size).toBe(400); // no event twice
    await waitFor(async () => (await count()) === 0, 5_000, "the acknowledged events to leave the table");
  });

  test("while the broker is away the events wait in PostgreSQL; once it is back every one goes out, in order per job", async () => {
    const { table, queue, store, count } = await fresh();
    const { bus: inner, state } = broker();
    state.up = false;
    const bus = relay(store, inner);
    const got: Event[] = [];
    bus.subscribe("job.>", (e) => void got.push(e));
    // Every job fails once, then succeeds: started, retrying, started, completed.
    worker(queue, bus, {
      work: (job) => {
        if (job.attempt === 1) throw new Error("first attempt fails");
      },
    });
    const ids = await queue.enqueueMany(Array.from({ length: 50 }, () => ({ type: "work", payload: {}, maxRetry: 2 })));
    // Retries are scheduled with a backoff: bring them forward so the test does not wait for it.
    await waitFor(async () => {
      await retryingDeadlocks(`UPDATE ${table} SET run_at = 0 WHERE status = 'failed'`);
      const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE status = 'succeeded'`)) as { n: number }[];
      return row!.n === 50;
    }, 20_000, "every job to succeed while the broker is away");
    await waitFor(async () => (await count()) === 200, 5_000, "the events of every transition in the table");
    expect(got.length).toBe(0);
    state.up = true;
    await waitFor(() => got.length === 200, 10_000, "every kept event once the broker is back");
    const byJob = perJob(got);
    expect([...byJob.keys()].sort()).toEqual([...ids].sort());
    for (const types of byJob.values()) expect(types).toEqual(["job.work.started", "job.work.retrying", "job.work.started", "job.work.completed"]);
    await waitFor(async () => (await count()) === 0, 5_000, "the acknowledged events to leave the table");
  });

  test("relays of several processes on one table: one publishes at a time (no event twice), and another takes over when it stops", async () => {
    const { table, count } = await fresh();
    const { bus: inner, state } = broker();
    const stores = [0, 1, 2].map(() => new PostgresEventOutbox({ sql, table, pollMs: 50 }));
    const relays = stores.map((store) => new OutboxBus(store, inner, { logger: silentLogger, engine: "test", deleteEveryMs: 20 }));
    let open = [...relays];
    closers.push(() => Promise.all(open.map((r) => r.close())));
    const got: Event[] = [];
    inner.subscribe("tick", (e) => void got.push(e));
    const keep = async (from: number, to: number) => {
      for (let i = from; i < to; i++) await stores[i % 3]!.add(createEvent("tick", { i }), JSON.stringify(createEvent("tick", { i })));
    };
    await keep(0, 300);
    await waitFor(() => got.length === 300, 10_000, "every event, from whichever relay holds the lock");
    expect(state.sent).toBe(300); // none published twice
    expect(got.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await waitFor(async () => (await count()) === 0, 5_000, "the table to empty");
    // The relay holding the lock stops; one of the others goes on.
    const holder = stores.findIndex((s) => (s as unknown as { relay: unknown }).relay !== null);
    expect(holder).toBeGreaterThanOrEqual(0);
    await relays[holder]!.close();
    open = relays.filter((_, i) => i !== holder);
    await keep(300, 400);
    await waitFor(() => got.length === 400, 10_000, "the events kept after the first relay stopped");
    expect(got.slice(300).map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 100 }, (_, i) => 300 + i));
  });
}
