// Webhook delivery to a real HTTP receiver on 127.0.0.1, verified with the exported helper.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { signWebhook, verifyWebhook, WebhookVerificationError } from "../../src/events/signature.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue } from "../../src/jobs/sqlite.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { seedCatalogue } from "../../src/store/catalogue.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import type { WebhookOptions } from "../../src/models/webhooks.ts";
import { addUser, request } from "../api/support.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

interface Delivery {
  headers: Headers;
  body: string;
  url: string;
}

let tmp: ReturnType<typeof tempDir>;
let receiver: ReturnType<typeof Bun.serve>;
let deliveries: Delivery[];
let failNext: number;
const SECRET = `whsec_${randomBytes(24).toString("base64")}`;

beforeEach(() => {
  tmp = tempDir();
  deliveries = [];
  failNext = 0;
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = await req.text();
      if (failNext > 0) {
        failNext--;
        return new Response("try later", { status: 503 });
      }
      deliveries.push({ headers: req.headers, body, url: req.url });
      return new Response(null, { status: 204 });
    },
  });
});
afterEach(() => {
  receiver.stop(true);
  tmp.remove();
});

function openStore(webhooks: WebhookOptions = {}, seed = false) {
  const db = openDatabase(tmp.file("shop.db"), { migrations: storeMigrations });
  const queue = new SqliteQueue(db);
  const store = createStoreApp({ db, queue, mailer: createMailer({ from: "t@b.l", outbox: tmp.file("out") }), logger: silentLogger, webhooks });
  if (seed) seedCatalogue(store.services);
  const worker = () => new Worker({ source: queue, handlers: store.handlers, logger: silentLogger, backoff: { baseMs: 5, jitter: 0 } }).start();
  return { db, queue, store, call: request(store.app), worker };
}

const url = () => `http://127.0.0.1:${receiver.port}/hooks`;

test("an order's event is delivered signed; the helper accepts it and refuses a tampered body or a stale timestamp", async () => {
  const { store, call, worker, db } = openStore({}, true);
  const admin = addUser(store.services, "root", ["admin"]);
  const ana = addUser(store.services, "ana");
  expect((await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: url(), secret: SECRET, pattern: "order.*" } })).status).toBe(201);
  const book = store.services.model("books").list({ where: [], sort: [], limit: 1, offset: 0 }).rows[0]!;
  const placed = (await call("POST", "/api/orders", { token: ana.token, body: { lines: [{ book_id: book.id, quantity: 1 }] } })).body.data;
  const running = worker();
  await waitFor(() => deliveries.length === 1);
  const [d] = deliveries;
  const event = verifyWebhook(SECRET, d!.headers, d!.body) as { id: string; type: string; data: { id: string } };
  expect(event).toMatchObject({ specversion: "1.0", type: "order.created", data: { id: placed.order_id } });
  expect(d!.headers.get("webhook-id")).toBe(event.id);
  expect(d!.headers.get("x-event-type")).toBe("order.created");
  expect(() => verifyWebhook(SECRET, d!.headers, d!.body.replace(placed.order_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV"))).toThrow(WebhookVerificationError);
  expect(() => verifyWebhook(SECRET, d!.headers, d!.body, { now: Date.now() + 10 * 60_000 })).toThrow(/timestamp/);
  expect(() => verifyWebhook("whsec_" + randomBytes(24).toString("base64"), d!.headers, d!.body)).toThrow(/no matching signature/);
  expect(verifyWebhook(["whsec_" + randomBytes(24).toString("base64"), SECRET], d!.headers, d!.body)).toMatchObject({ id: event.id }); // rotation
  await running.shutdown();
  db.close();
});

test("a receiver that is down, then up, gets the event exactly once after de-duplication by id", async () => {
  const { store, worker, db, queue } = openStore({ subscriptions: [{ name: "head-office", url: url(), secret: SECRET, pattern: "book.*" }] });
  failNext = 3;
  store.services.db.transaction(() => store.services.model("books").create({ title: "T", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  const running = worker();
  await waitFor(() => deliveries.length >= 1, 10_000, "the delivery after the receiver comes back");
  // A marker: a later event's delivery, and both delivery jobs finished. Only then is a count
  // of deliveries per id final (a duplicate would have been sent before its job finished).
  store.services.db.transaction(() => store.services.model("books").create({ title: "Marker", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  const jobs = () => queue.listStatuses({ where: [[{ field: "type", op: "eq", value: "webhook_delivery" }]], sort: [], limit: 5, offset: 0 }).rows;
  await waitFor(() => jobs().length === 2 && jobs().every((j) => j.status === "succeeded"), 10_000, "the marker's delivery job to finish");
  const perId = new Map<string, { title: string; n: number }>();
  for (const d of deliveries) {
    const id = d.headers.get("webhook-id")!;
    const title = (JSON.parse(d.body) as { data: { title: string } }).data.title;
    perId.set(id, { title, n: (perId.get(id)?.n ?? 0) + 1 });
  }
  expect([...perId.values()].sort((x, y) => x.title.localeCompare(y.title))).toEqual([{ title: "Marker", n: 1 }, { title: "T", n: 1 }]);
  expect(deliveries.length).toBe(2);
  const job = jobs().find((j) => j.attempts !== 1)!;
  expect(job).toMatchObject({ status: "succeeded", attempts: 4 });
  await running.shutdown();
  db.close();
});

test("a crash after the commit and before the delivery: the delivery happens after the restart", async () => {
  const first = openStore({ subscriptions: [{ name: "ho", url: url(), secret: SECRET, pattern: "book.created" }] });
  first.store.services.db.transaction(() => first.store.services.model("books").create({ title: "Offline", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: first.store.services }));
  first.db.close(); // the till goes down before any worker ran: the delivery waits in the file
  expect(deliveries).toEqual([]);
  const second = openStore({ subscriptions: [{ name: "ho", url: url(), secret: SECRET, pattern: "book.created" }] });
  const running = second.worker();
  await waitFor(() => deliveries.length === 1);
  expect((verifyWebhook(SECRET, deliveries[0]!.headers, deliveries[0]!.body) as { data: { title: string } }).data.title).toBe("Offline");
  await running.shutdown();
  second.db.close();
});

test("by default a delivery also carries the seeds' X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>; format standard leaves it out", async () => {
  const plain = "a-plain-shared-secret";
  const { store, call, worker, db } = openStore({ subscriptions: [{ name: "standard-only", url: `${url()}?standard`, secret: SECRET, pattern: "book.created", format: "standard" }] });
  const admin = addUser(store.services, "root", ["admin"]);
  for (const secret of [SECRET, plain]) {
    expect((await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: `${url()}?${secret === plain ? "plain" : "whsec"}`, secret, pattern: "book.created" } })).status).toBe(201);
  }
  store.services.db.transaction(() => store.services.model("books").create({ title: "S", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  const running = worker();
  await waitFor(() => deliveries.length === 3, 5_000, "three deliveries");
  const to = (query: string) => deliveries.find((d) => new URL(d.url).search === `?${query}`)!;
  // A seed-style receiver: HMAC-SHA256 of the raw body with the secret it was given, hex, compared in constant time.
  const seedVerifies = (secret: string, d: Delivery) => {
    const header = d.headers.get("x-webhook-signature");
    if (!header?.startsWith("sha256=")) return false;
    const expected = createHmac("sha256", secret).update(d.body).digest();
    const given = Buffer.from(header.slice(7), "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  expect(seedVerifies(SECRET, to("whsec"))).toBe(true);
  expect(seedVerifies(plain, to("plain"))).toBe(true);
  expect(seedVerifies(SECRET, to("plain"))).toBe(false);
  expect(to("standard").headers.has("x-webhook-signature")).toBe(false);
  for (const d of deliveries) expect(() => verifyWebhook([SECRET, plain], d.headers, d.body)).not.toThrow(); // Standard Webhooks headers on all three
  await running.shutdown();
  db.close();
});

test("a public event's delivery carries no actor or trace in its body, but the delivery is still traced by the request (traceparent header)", async () => {
  const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const { store, call, worker, db } = openStore({ subscriptions: [{ name: "ho", url: url(), secret: SECRET, pattern: "book.updated" }] }, true);
  const ana = addUser(store.services, "ana");
  const book = store.services.model("books").list({ where: [], sort: [], limit: 1, offset: 0 }).rows[0]!;
  expect((await call("POST", "/api/orders", { token: ana.token, headers: { traceparent: trace }, body: { lines: [{ book_id: book.id, quantity: 1 }] } })).status).toBe(202);
  const running = worker();
  await waitFor(() => deliveries.length === 1);
  const event = verifyWebhook(SECRET, deliveries[0]!.headers, deliveries[0]!.body) as Record<string, unknown>;
  expect(event).toMatchObject({ type: "book.updated", visibility: "all", data: { id: book.id, stock: (book.stock as number) - 1 } });
  expect(event).not.toHaveProperty("actorid");
  expect(event).not.toHaveProperty("traceparent");
  expect(deliveries[0]!.headers.get("traceparent")).toBe(trace);
  await running.shutdown();
  db.close();
});

test("the maniflex format adds X-Webhook-Signature over the body", async () => {
  const { store, worker, db } = openStore({ subscriptions: [{ name: "legacy", url: url(), secret: "a-plain-shared-secret", pattern: ">", format: "maniflex" }] });
  store.services.db.transaction(() => store.services.model("books").create({ title: "M", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  const running = worker();
  await waitFor(() => deliveries.length === 1);
  const [d] = deliveries;
  expect(d!.headers.get("x-webhook-signature")).toBe(`sha256=${createHmac("sha256", "a-plain-shared-secret").update(d!.body).digest("hex")}`);
  expect(verifyWebhook("a-plain-shared-secret", d!.headers, d!.body)).toMatchObject({ type: "book.created", data: { title: "M" } });
  await running.shutdown();
  db.close();
});

test("a subscription's secret is write-only: no answer carries it, each shows secret_hint (its last 4 characters), and deliveries are still signed with it", async () => {
  const { store, call, worker, db } = openStore();
  const admin = addUser(store.services, "root", ["admin"]);
  const created = await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: url(), secret: SECRET, pattern: "book.*" } });
  expect(created.status).toBe(201);
  const id = created.body.data.id;
  const answers = [
    created,
    await call("GET", "/api/webhook_subscriptions", { token: admin.token }),
    await call("GET", `/api/webhook_subscriptions/${id}`, { token: admin.token }),
    await call("PATCH", `/api/webhook_subscriptions/${id}`, { token: admin.token, body: { pattern: "book.created" } }),
  ];
  for (const answer of answers) {
    expect(answer.status).toBe(answer === created ? 201 : 200);
    const text = JSON.stringify(answer.body);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SECRET.slice(6, 26)); // nor any long part of it
    const record = Array.isArray(answer.body.data) ? answer.body.data[0] : answer.body.data;
    expect(record).not.toHaveProperty("secret");
    expect(record.secret_hint).toBe(`…${SECRET.slice(-4)}`);
  }
  // Nor can a list query guess it a character at a time.
  expect((await call("GET", `/api/webhook_subscriptions?filter=secret:like:whsec_%25`, { token: admin.token })).status).toBe(400);
  expect((await call("GET", `/api/webhook_subscriptions?sort=secret`, { token: admin.token })).status).toBe(400);
  // The server still has it: the delivery is signed with it.
  store.services.db.transaction(() => store.services.model("books").create({ title: "W", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  const running = worker();
  await waitFor(() => deliveries.length === 1);
  expect(verifyWebhook(SECRET, deliveries[0]!.headers, deliveries[0]!.body)).toMatchObject({ type: "book.created" });
  await running.shutdown();
  db.close();
});

test("subscriptions are admin-only, patterns are checked, and a deleted subscription's deliveries die at once", async () => {
  const { store, call, worker, db, queue } = openStore();
  const admin = addUser(store.services, "root", ["admin"]);
  const ana = addUser(store.services, "ana");
  expect((await call("POST", "/api/webhook_subscriptions", { token: ana.token, body: { url: url(), secret: SECRET, pattern: ">" } })).status).toBe(403);
  const bad = await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: url(), secret: SECRET, pattern: "order.>.x" } });
  expect([bad.status, bad.body.error.details[0].field]).toEqual([422, "pattern"]);
  expect((await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: "ftp://x", secret: SECRET, pattern: ">" } })).status).toBe(422);
  const sub = (await call("POST", "/api/webhook_subscriptions", { token: admin.token, body: { url: url(), secret: SECRET, pattern: "book.*" } })).body.data;
  store.services.db.transaction(() => store.services.model("books").create({ title: "Gone", author: "A", price_cents: 1, stock: 1 }, { auth: null, services: store.services }));
  expect((await call("DELETE", `/api/webhook_subscriptions/${sub.id}`, { token: admin.token })).status).toBe(204);
  const running = worker();
  await waitFor(() => queue.listStatuses({ where: [[{ field: "status", op: "eq", value: "dead" }]], sort: [], limit: 5, offset: 0 }).total === 1);
  const dead = queue.listStatuses({ where: [[{ field: "status", op: "eq", value: "dead" }]], sort: [], limit: 5, offset: 0 }).rows[0]!;
  expect(dead).toMatchObject({ type: "webhook_delivery", attempts: 1, error: expect.stringContaining("no longer exists") });
  expect(deliveries).toEqual([]);
  await running.shutdown();
  db.close();
});

test("signWebhook and verifyWebhook agree, and refuse missing headers", () => {
  const headers = signWebhook(SECRET, "msg_1", '{"a":1}');
  expect(verifyWebhook(SECRET, headers, '{"a":1}')).toEqual({ a: 1 });
  expect(() => verifyWebhook(SECRET, {}, "{}")).toThrow(/missing/);
});
