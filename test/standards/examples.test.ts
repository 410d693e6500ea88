// Every "Use it with…" example in the README runs here.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readEvent } from "../../examples/cloudevents-consumer.ts";
import { checkInAndWait } from "../../examples/eden-client.ts";
import { repairDesk } from "../../examples/repair-desk/app.ts";
import { startServer } from "../../src/runtime/server.ts";
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

test("Eden: the example client checks a device in at the repair desk (an app of its own, started with startServer) and sees its job succeed", async () => {
  const outbox = store.tmp.file("desk-outbox");
  // A file, not memory: its sandboxed export reads the database from a thread of its own.
  const server = await startServer(repairDesk, { db: store.tmp.file("desk.db"), port: 0, dev: true, outbox, logger: silentLogger });
  try {
    expect(await checkInAndWait(server.url, "dev-ana-token")).toBe("succeeded");
  } finally {
    await server.stop();
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
