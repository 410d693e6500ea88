// Every "Use it with…" example in the README runs here.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readEvent } from "../../examples/cloudevents-consumer.ts";
import { placeOrderAndWait } from "../../examples/eden-client.ts";
import { startReceiver } from "../../examples/webhook-receiver.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
beforeEach(() => (store = storeFixture()));
afterEach(() => store.close());

test("Eden: the example client places an order and sees its receipt succeed", async () => {
  store.app.listen({ port: 0, hostname: "127.0.0.1" });
  const worker = new Worker({ source: store.queue, handlers: store.handlers, logger: silentLogger }).start();
  try {
    expect(await placeOrderAndWait(`127.0.0.1:${store.app.server!.port}`, store.users.ana.token, store.books()[0]!.id as string)).toBe("succeeded");
  } finally {
    await worker.shutdown();
    await store.app.stop();
  }
});

test("Standard Webhooks receiver and CloudEvents consumer: the example receiver verifies, de-duplicates and reads our events", async () => {
  const secret = `whsec_${randomBytes(32).toString("base64")}`;
  const events: { id: string; type: string }[] = [];
  const receiver = startReceiver(secret, (e) => events.push(e));
  const app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger, webhooks: { subscriptions: [{ name: "ho", url: `http://127.0.0.1:${receiver.port}/`, secret, pattern: "order.*" }] } });
  const worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger }).start();
  try {
    await app.app.handle(new Request("http://localhost/api/orders", { method: "POST", headers: { authorization: `Bearer ${store.users.ben.token}`, "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: store.books()[0]!.id, quantity: 1 }] }) }));
    await waitFor(() => events.length === 1);
    const event = readEvent(JSON.stringify(events[0]));
    expect(event.type).toBe("order.created");
    const forged = await fetch(`http://127.0.0.1:${receiver.port}/`, { method: "POST", body: JSON.stringify(events[0]), headers: { "webhook-id": "x", "webhook-timestamp": String(Math.floor(Date.now() / 1000)), "webhook-signature": "v1,Zm9yZ2Vk" } });
    expect(forged.status).toBe(401);
  } finally {
    await worker.shutdown();
    receiver.stop(true);
  }
});

const promtool = Bun.which("promtool");
test.skipIf(!promtool)("Prometheus: the example scrape configuration is valid", () => {
  const check = Bun.spawnSync([promtool!, "check", "config", "examples/prometheus.yml"], { stdout: "pipe", stderr: "pipe" });
  expect(check.exitCode).toBe(0);
});
