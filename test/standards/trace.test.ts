// W3C trace context: a request's traceparent becomes the job's trace id, reaches the handler,
// the status row, the events and the webhook, and is logged.
import { afterEach, expect, test } from "bun:test";
import type { Event } from "../../src/events/event.ts";
import { jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { jsonLogger, silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
let store: StoreFixture;
let worker: Worker;
let receiver: ReturnType<typeof Bun.serve>;
afterEach(async () => {
  await worker?.shutdown(500);
  receiver?.stop(true);
  await store.close();
});

test("a request's traceparent follows its work everywhere", async () => {
  store = storeFixture();
  const hooks: { traceparent: string | null }[] = [];
  receiver = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => (hooks.push({ traceparent: r.headers.get("traceparent") }), new Response(null, { status: 204 })) });
  const logs: Record<string, unknown>[] = [];
  const bus = new InProcessBus({ logger: silentLogger });
  const events: Event[] = [];
  bus.subscribe(">", (e) => void events.push(e));
  const app = createStoreApp({
    db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), bus,
    logger: jsonLogger("debug", (line) => logs.push(JSON.parse(line))),
    webhooks: { subscriptions: [{ name: "ho", url: `http://127.0.0.1:${receiver.port}/`, secret: "a-shared-secret-1234", pattern: "order.*" }] },
  });
  const seen: (string | null)[] = [];
  const handlers = { ...app.handlers, send_receipt: (_job: any, ctx: any) => void seen.push(ctx.traceId) };
  worker = new Worker({ source: store.queue, handlers, logger: silentLogger, status: jobEventSink(bus) }).start();
  const [book] = store.books();
  const placed = await request(app.app)("POST", "/api/orders", { token: store.users.ana.token, headers: { traceparent: TRACE }, body: { lines: [{ book_id: book!.id, quantity: 1 }] } });
  const jobId = placed.body.data.job_id;
  await waitFor(() => events.some((e) => e.type === "job.send_receipt.completed") && hooks.length === 1);
  expect(seen).toEqual([TRACE]);
  expect((await request(app.app)("GET", `/api/job_statuses/${jobId}`, { token: store.users.ana.token })).body.data.trace_id).toBe(TRACE);
  expect(events.find((e) => e.type === "order.created")?.traceparent).toBe(TRACE);
  expect(events.find((e) => e.type === "job.send_receipt.completed")?.traceparent).toBe(TRACE);
  expect(hooks[0]!.traceparent).toBe(TRACE);
  expect(logs.some((l) => l.msg === "request" && l.trace_id === TRACE && l.route === "/api/orders")).toBe(true);
});

test("a malformed traceparent is ignored, not stored", async () => {
  store = storeFixture();
  const [book] = store.books();
  const placed = await store.call("POST", "/api/orders", { token: store.users.ana.token, headers: { traceparent: "00-zzzz-1-01" }, body: { lines: [{ book_id: book!.id, quantity: 1 }] } });
  expect(placed.status).toBe(202);
  expect((await store.queue.getStatus(placed.body.data.job_id))?.traceId).toBeNull();
});
