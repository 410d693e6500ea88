// Events from the app: model writes (only after commit), job lifecycle, cancel.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { type EventBus, EventTooLargeError } from "../../src/events/bus.ts";
import type { Event } from "../../src/events/event.ts";
import { jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import type { StatusChange } from "../../src/jobs/queue.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
let bus: InProcessBus;
let events: Event[];
let app: ReturnType<typeof createStoreApp>;
let call: ReturnType<typeof request>;
let worker: Worker | null;
beforeEach(() => {
  store = storeFixture();
  bus = new InProcessBus({ logger: silentLogger });
  events = [];
  bus.subscribe(">", (e) => void events.push(e));
  app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("out") }), logger: silentLogger, bus });
  call = request(app.app);
  worker = null;
});
afterEach(async () => {
  await worker?.shutdown(500);
  await store.close();
});
const types = () => events.map((e) => e.type);

test("a write publishes {model}.created|updated|deleted with the record, after the commit", async () => {
  const admin = store.users.admin.token;
  const created = (await call("POST", "/api/books", { token: admin, body: { title: "Emma", author: "Austen", price_cents: 900, stock: 2 } })).body.data;
  await call("PATCH", `/api/books/${created.id}`, { token: admin, body: { stock: 1 } });
  await call("DELETE", `/api/books/${created.id}`, { token: admin });
  await waitFor(() => events.length === 3);
  expect(types()).toEqual(["book.created", "book.updated", "book.deleted"]);
  expect(events[0]).toMatchObject({ subject: created.id, visibility: "all", data: { title: "Emma", stock: 2 } });
  expect(events[1]!.data).toMatchObject({ stock: 1 });
});

test("an event visible to all carries no actor and no trace: ana's order updates the book for everyone without naming her", async () => {
  const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const [book] = store.books();
  const placed = await call("POST", "/api/orders", { token: store.users.ana.token, headers: { traceparent: trace }, body: { lines: [{ book_id: book!.id, quantity: 2 }] } });
  expect(placed.status).toBe(202);
  await waitFor(() => types().includes("order.created") && types().includes("book.updated"), 2_000, "order.created and book.updated");
  const updated = events.find((e) => e.type === "book.updated")!;
  expect(updated.visibility).toBe("all");
  expect(updated).not.toHaveProperty("actorid");
  expect(updated).not.toHaveProperty("traceparent");
  expect(JSON.stringify(updated)).not.toContain(store.users.ana.id);
  expect(JSON.stringify(updated)).not.toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  // The stock is what GET /api/books/:id shows anyone: it stays.
  expect(updated.data).toMatchObject({ id: book!.id, stock: (book!.stock as number) - 2 });
  expect((await call("GET", `/api/books/${book!.id}`)).body.data.stock).toBe((book!.stock as number) - 2);
  // The owner's own event keeps both.
  expect(events.find((e) => e.type === "order.created")).toMatchObject({ visibility: "owner", actorid: store.users.ana.id, traceparent: trace });
});

test("a rolled-back write publishes nothing", async () => {
  const [book] = store.books();
  const enqueue = store.queue.enqueue;
  store.queue.enqueue = () => {
    throw new Error("disk full");
  };
  expect((await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).status).toBe(500);
  // A marker: the next order, which commits. Its events come after any the failed one sent.
  store.queue.enqueue = enqueue;
  const placed = await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 2 }] } });
  expect(placed.status).toBe(202);
  await waitFor(() => types().includes("order.created") && types().includes("book.updated"), 5_000, "the marker order's events");
  expect(types().sort()).toEqual(["book.updated", "order.created"]);
  expect(events.find((e) => e.type === "order.created")!.subject).toBe(placed.body.data.order_id);
  expect(events.find((e) => e.type === "book.updated")!.data).toMatchObject({ stock: (book!.stock as number) - 2 });
});

test("an order's events belong to its owner; the worker publishes started and completed; cancel publishes cancelled", async () => {
  const [book] = store.books();
  const placed = (await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).body.data;
  const other = (await call("POST", "/api/orders", { token: store.users.ben.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).body.data;
  expect((await call("POST", `/api/job_statuses/${other.job_id}/cancel`, { token: store.users.ben.token })).status).toBe(200);
  worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger, status: jobEventSink(bus) }).start();
  await waitFor(() => types().includes("job.send_receipt.completed"));
  const order = events.find((e) => e.type === "order.created" && e.subject === placed.order_id)!;
  expect(order).toMatchObject({ visibility: "owner", actorid: store.users.ana.id });
  expect(types().filter((t) => t.startsWith("job."))).toEqual(["job.send_receipt.cancelled", "job.send_receipt.started", "job.send_receipt.completed"]);
  const completed = events.find((e) => e.type === "job.send_receipt.completed")!;
  expect(completed).toMatchObject({ subject: placed.job_id, actorid: store.users.ana.id, data: { job_id: placed.job_id, status: "succeeded", attempts: 1, error: null } });
});

test("a retried attempt publishes job.{type}.retrying; job.{type}.failed comes once, when the job gives up (as in the seeds)", async () => {
  let calls = 0;
  const failed: Event[] = [];
  bus.subscribe("job.*.failed", (e) => void failed.push(e));
  worker = new Worker({ source: store.queue, handlers: { flaky: () => { throw new Error(`nope ${++calls}`); } }, logger: silentLogger, status: jobEventSink(bus), backoff: { baseMs: 1, jitter: 0 } }).start();
  const id = store.queue.enqueue({ type: "flaky", maxRetry: 3 });
  await waitFor(() => types().includes("job.flaky.failed"));
  expect(types()).toEqual(["job.flaky.started", "job.flaky.retrying", "job.flaky.started", "job.flaky.retrying", "job.flaky.started", "job.flaky.failed"]);
  expect(events.filter((e) => e.type === "job.flaky.retrying").map((e) => e.data)).toMatchObject([{ status: "failed", attempts: 1 }, { status: "failed", attempts: 2 }]);
  expect(failed.map((e) => [e.subject, e.data])).toMatchObject([[id, { status: "dead", attempts: 3, error: "nope 3" }]]);
});

test("a job event the bus refuses for good (a result too large for the broker) does not keep the rest of the worker's batch from going out", async () => {
  const limited: EventBus = {
    publish: (type, data, meta) => bus.publish(type, data, meta),
    publishEvent: (event) => (event.type === "job.huge.completed" ? Promise.reject(new EventTooLargeError(event.type, event.id, 2_000, 1_000, "the test broker takes")) : bus.publishEvent(event)),
    subscribe: (pattern, handler) => bus.subscribe(pattern, handler),
    close: () => bus.close(),
  };
  const change = (type: string, status: StatusChange["status"]): StatusChange => ({
    job: { id: `${type}-1`, type, actorId: null, tenantId: null, traceId: null } as StatusChange["job"], status, attempts: 1, error: null, result: null, at: 0,
  });
  const recording = jobEventSink(limited).record([change("small", "running"), change("huge", "succeeded"), change("small", "succeeded")]);
  expect(await Promise.resolve(recording).then(() => null, (error: unknown) => error)).toBeInstanceOf(AggregateError);
  await waitFor(() => types().includes("job.small.completed"));
  expect(types()).toEqual(["job.small.started", "job.small.completed"]);
});
