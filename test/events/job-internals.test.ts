// Internals stay with admins: a job's raw error (`ENOTDIR … /outbox/…`) and a file:// result
// URL (a path on the server) are hidden from non-admins over REST, and by the same rule from
// the job events they receive over realtime and from webhook receivers.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createEvent, type Event } from "../../src/events/event.ts";
import { eventForNonAdmins, jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { Webhooks } from "../../src/models/webhooks.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
let bus: InProcessBus;
let app: ReturnType<typeof createStoreApp> | null;
let worker: Worker | null;
let sockets: WebSocket[];
beforeEach(() => {
  store = storeFixture();
  bus = new InProcessBus({ logger: silentLogger });
  app = null;
  worker = null;
  sockets = [];
});
afterEach(async () => {
  for (const s of sockets) s.close();
  await worker?.shutdown(1_000);
  await app?.app.stop();
  await bus.close();
  await store.close();
});

/** The store app on a real port, its worker publishing job events, with the outbox at `outbox`. */
function serve(outbox: string) {
  app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox }), logger: silentLogger, bus });
  app.app.listen({ port: 0, hostname: "127.0.0.1" });
  const started = app;
  return {
    base: `127.0.0.1:${started.app.server!.port}`,
    call: request(started.app),
    startWorker: () => (worker = new Worker({ source: store.queue, handlers: started.handlers, logger: silentLogger, status: jobEventSink(bus), backoff: { baseMs: 1, jitter: 0 } }).start()),
  };
}

async function client(base: string, token: string) {
  const messages: any[] = [];
  const ws = new WebSocket(`ws://${base}/api/realtime?token=${token}`);
  sockets.push(ws);
  ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)));
  await waitFor(() => messages.some((m) => m.type === "ready"), 2_000, "ready");
  ws.send(JSON.stringify({ type: "subscribe", pattern: "job.>" }));
  await waitFor(() => messages.some((m) => m.type === "subscribed"), 2_000, "subscribed");
  return { events: () => messages.filter((m) => m.type === "event").map((m) => m.event as Event<any>) };
}

const placeOrder = async (call: ReturnType<typeof request>) => {
  const [book] = store.books();
  const placed = await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } });
  expect(placed.status).toBe(202);
  return placed.body.data.job_id as string;
};

test("the owner's job.*.failed and .retrying events carry no raw error over realtime; an admin's carry it", async () => {
  const blocker = store.tmp.file("not-a-folder");
  writeFileSync(blocker, "");
  const { base, call, startWorker } = serve(join(blocker, "outbox")); // every receipt fails: ENOTDIR … /not-a-folder/outbox
  const ana = await client(base, store.users.ana.token);
  const admin = await client(base, store.users.admin.token);
  const jobId = await placeOrder(call);
  startWorker();
  await waitFor(() => admin.events().some((e) => e.type === "job.send_receipt.failed") && ana.events().some((e) => e.type === "job.send_receipt.failed"), 5_000, "job.send_receipt.failed on both sockets");
  const failures = (events: Event<any>[]) => events.filter((e) => e.type === "job.send_receipt.retrying" || e.type === "job.send_receipt.failed");
  expect(failures(admin.events()).every((e) => /ENOTDIR/.test(e.data.error))).toBe(true);
  expect(failures(ana.events()).map((e) => [e.subject, e.data.status])).toEqual([[jobId, "failed"], [jobId, "failed"], [jobId, "dead"]]);
  for (const e of ana.events()) {
    expect(e.data).not.toHaveProperty("error");
    expect(JSON.stringify(e)).not.toContain(blocker);
  }
  // The same rule as REST: the owner's status row has no error, the admin's has it.
  expect((await call("GET", `/api/job_statuses/${jobId}`, { token: store.users.ana.token })).body.data).not.toHaveProperty("error");
  expect((await call("GET", `/api/job_statuses/${jobId}`, { token: store.users.admin.token })).body.data.error).toContain("ENOTDIR");
});

test("a file:// result URL is for admins only: the owner's status row and completed event show no server path", async () => {
  const outbox = store.tmp.file("outbox");
  const { base, call, startWorker } = serve(outbox);
  const ana = await client(base, store.users.ana.token);
  const admin = await client(base, store.users.admin.token);
  const jobId = await placeOrder(call);
  startWorker();
  await waitFor(() => ana.events().some((e) => e.type === "job.send_receipt.completed") && admin.events().some((e) => e.type === "job.send_receipt.completed"), 5_000, "job.send_receipt.completed on both sockets");
  const completed = (events: Event<any>[]) => events.find((e) => e.type === "job.send_receipt.completed")!;
  expect(completed(admin.events()).data.result.url).toStartWith(`file://${outbox}`);
  expect(completed(ana.events()).data.result).toEqual({ output: expect.objectContaining({ to: "ana@example.com" }), mime: "message/rfc822" });
  expect(JSON.stringify(ana.events())).not.toContain(outbox);

  const anas = await call("GET", `/api/job_statuses/${jobId}`, { token: store.users.ana.token });
  expect(anas.body.data).toMatchObject({ status: "succeeded", result_url: null, result_mime: "message/rfc822" });
  const list = await call("GET", "/api/job_statuses", { token: store.users.ana.token });
  expect(JSON.stringify(list.body)).not.toContain(outbox);
  expect((await call("GET", `/api/job_statuses/${jobId}`, { token: store.users.admin.token })).body.data.result_url).toStartWith(`file://${outbox}`);
});

test("eventForNonAdmins hides only what REST hides: a job event's error and file:// URL; an https URL and other events pass as they are", () => {
  const job = (result: unknown) => createEvent("job.report.completed", { job_id: "j1", type: "report", status: "succeeded", attempts: 1, error: "EACCES /srv/x", result, actor_id: "u1", tenant_id: null }, { actorId: "u1" });
  const local = job({ url: "file:///srv/till/outbox/r.pdf", mime: "application/pdf" });
  expect(eventForNonAdmins(local).data).toEqual({ job_id: "j1", type: "report", status: "succeeded", attempts: 1, result: { mime: "application/pdf" }, actor_id: "u1", tenant_id: null });
  expect(local.data).toHaveProperty("error", "EACCES /srv/x"); // the admin's copy is untouched
  expect(eventForNonAdmins(local)).toBe(eventForNonAdmins(local)); // one copy per event, however many sockets
  expect((eventForNonAdmins(job({ url: "https://cdn.example/r.pdf" })).data as any).result).toEqual({ url: "https://cdn.example/r.pdf" });
  const book = createEvent("book.updated", { id: "b1", error: "not a job's" }, { visibility: "all" });
  expect(eventForNonAdmins(book)).toBe(book);
});

test("a webhook receiver is not an admin: a job event enqueued for delivery loses its error and file:// URL", () => {
  const hooks = new Webhooks(() => store.services, { subscriptions: [{ name: "ho", url: "http://127.0.0.1:9/", secret: "a-shared-secret-1234", pattern: "job.>" }] });
  const event = createEvent("job.report.failed", { job_id: "j1", type: "report", status: "dead", attempts: 3, error: "ENOTDIR /srv/till/outbox/x", result: { url: "file:///srv/till/outbox/x" }, actor_id: null, tenant_id: null });
  store.db.transaction(() => hooks.enqueueFor(event));
  const delivery = store.queue.listStatuses({ where: [[{ field: "type", op: "eq", value: "webhook_delivery" }]], sort: [], limit: 5, offset: 0 }).rows;
  expect(delivery).toHaveLength(1);
  const payload = store.db.sqlite.query<{ payload: string }, []>("SELECT payload FROM jobs WHERE type = 'webhook_delivery'").get()!;
  expect(JSON.parse(payload.payload).event.data).toEqual({ job_id: "j1", type: "report", status: "dead", attempts: 3, result: {}, actor_id: null, tenant_id: null });
});
