// Our webhooks and events, checked by implementations we did not write: the `standardwebhooks`
// package (the spec's reference library) and the CloudEvents SDK.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { CloudEvent, HTTP } from "cloudevents";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { createEvent } from "../../src/events/event.ts";
import { signWebhook } from "../../src/events/signature.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

const secret = () => `whsec_${randomBytes(32).toString("base64")}`;
let store: StoreFixture;
let receiver: ReturnType<typeof Bun.serve>;
let received: { headers: Record<string, string>; body: string }[];
beforeEach(() => {
  store = storeFixture();
  received = [];
  receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      received.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response(null, { status: 204 });
    },
  });
});
afterEach(async () => {
  receiver.stop(true);
  await store.close();
});

async function deliverOrder(secrets: string) {
  const app = createStoreApp({
    db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger,
    webhooks: { subscriptions: [{ name: "partner", url: `http://127.0.0.1:${receiver.port}/hook`, secret: secrets, pattern: "order.created" }] },
  });
  const worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger }).start();
  const [book] = store.books();
  const reply = await app.app.handle(new Request("http://localhost/api/orders", { method: "POST", headers: { authorization: `Bearer ${store.users.ana.token}`, "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book!.id, quantity: 1 }] }) }));
  expect(reply.status).toBe(202);
  await waitFor(() => received.length === 1);
  await worker.shutdown();
  return received[0]!;
}

test("the standardwebhooks library verifies our deliveries, and refuses a tampered body and a stale timestamp", async () => {
  const key = secret();
  const delivery = await deliverOrder(key);
  const verified = new Webhook(key).verify(delivery.body, delivery.headers) as { type: string };
  expect(verified.type).toBe("order.created");
  expect(() => new Webhook(key).verify(delivery.body.replace("order.created", "order.deleted"), delivery.headers)).toThrow(WebhookVerificationError);
  const stale = signWebhook(key, "msg_stale", delivery.body, Date.now() - 10 * 60_000);
  expect(() => new Webhook(key).verify(delivery.body, stale)).toThrow(/too old/i);
  expect(() => new Webhook(secret()).verify(delivery.body, delivery.headers)).toThrow(WebhookVerificationError);
});

test("during a secret rotation, receivers holding either secret accept the delivery", async () => {
  const [next, previous] = [secret(), secret()];
  const delivery = await deliverOrder(`${next} ${previous}`);
  expect(delivery.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
  expect(new Webhook(previous).verify(delivery.body, delivery.headers)).toBeTruthy();
  expect(new Webhook(next).verify(delivery.body, delivery.headers)).toBeTruthy();
});

test("the CloudEvents SDK reads our webhook bodies and our events as valid CloudEvents 1.0", async () => {
  const delivery = await deliverOrder(secret());
  const fromWebhook = HTTP.toEvent({ headers: { "content-type": "application/cloudevents+json" }, body: delivery.body }) as CloudEvent<{ id: string }>;
  expect(fromWebhook.validate()).toBe(true);
  expect(fromWebhook).toMatchObject({ specversion: "1.0", type: "order.created", source: "backroom", datacontenttype: "application/json" });
  const ours = createEvent("job.send_receipt.completed", { job_id: "j1" }, { actorId: "u1", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
  const parsed = new CloudEvent({ ...ours });
  expect(parsed.validate()).toBe(true);
  expect(parsed.traceparent).toBe(ours.traceparent);
  expect(parsed.actorid).toBe("u1");
  expect(parsed.data).toEqual({ job_id: "j1" });
});
