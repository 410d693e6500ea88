// Realtime over a real WebSocket: a client sees its own job go from started to completed,
// and never another user's; admins see both.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/store/mailer.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
let bus: InProcessBus;
let app: ReturnType<typeof createStoreApp>;
let base: string;
let sockets: WebSocket[];
beforeEach(() => {
  store = storeFixture();
  bus = new InProcessBus({ logger: silentLogger });
  app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger, bus });
  app.app.listen({ port: 0, hostname: "127.0.0.1" });
  base = `127.0.0.1:${app.app.server!.port}`;
  sockets = [];
});
afterEach(async () => {
  for (const s of sockets) s.close();
  await app.app.stop();
  await store.close();
});

async function client(token: string, pattern = "job.>") {
  const messages: any[] = [];
  const ws = new WebSocket(`ws://${base}/api/realtime?token=${token}`);
  sockets.push(ws);
  ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)));
  await waitFor(() => messages.some((m) => m.type === "ready"));
  ws.send(JSON.stringify({ type: "subscribe", pattern }));
  await waitFor(() => messages.some((m) => m.type === "subscribed"));
  return { ws, messages, events: () => messages.filter((m) => m.type === "event").map((m) => m.event) };
}

test("a client receives its job's status changes, and not another user's; an admin receives both", async () => {
  const ana = await client(store.users.ana.token);
  const ben = await client(store.users.ben.token);
  const admin = await client(store.users.admin.token);
  const [book] = store.books();
  const order = async (token: string) =>
    (await fetch(`http://${base}/api/orders`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book!.id, quantity: 1 }] }) }).then((r) => r.json())) as { data: { job_id: string } };
  const anas = (await order(store.users.ana.token)).data.job_id;
  const worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger, status: jobEventSink(bus) }).start();
  await waitFor(() => ana.events().some((e: any) => e.type === "job.send_receipt.completed"));
  expect(ana.events().map((e: any) => [e.type, e.subject])).toEqual([["job.send_receipt.started", anas], ["job.send_receipt.completed", anas]]);
  const bens = (await order(store.users.ben.token)).data.job_id;
  await waitFor(() => admin.events().filter((e: any) => e.type === "job.send_receipt.completed").length === 2);
  expect(ben.events().map((e: any) => e.subject)).toEqual([bens, bens]);
  expect(ana.events().every((e: any) => e.subject === anas)).toBe(true);
  await worker.shutdown();
});

test("model events follow read access: a user sees public books and its own orders only", async () => {
  const ana = await client(store.users.ana.token, ">");
  const ben = await client(store.users.ben.token, "order.*");
  const [book] = store.books();
  await fetch(`http://${base}/api/orders`, { method: "POST", headers: { authorization: `Bearer ${store.users.ana.token}`, "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book!.id, quantity: 1 }] }) });
  await waitFor(() => ana.events().some((e: any) => e.type === "order.created"));
  expect(ana.events().map((e: any) => e.type).sort()).toEqual(["book.updated", "order.created"]);
  await Bun.sleep(50);
  expect(ben.events()).toEqual([]);
});

test("a bad token is refused; an unauthenticated client must authenticate before subscribing; bad patterns are errors", async () => {
  const refused = new WebSocket(`ws://${base}/api/realtime?token=brt_forged`);
  sockets.push(refused);
  const closed = await new Promise<number>((resolve) => (refused.onclose = (e) => resolve(e.code)));
  expect(closed).toBe(1008);
  const messages: any[] = [];
  const ws = new WebSocket(`ws://${base}/api/realtime`);
  sockets.push(ws);
  ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)));
  await waitFor(() => messages.length === 1);
  ws.send(JSON.stringify({ type: "subscribe", pattern: "job.>" }));
  await waitFor(() => messages.length === 2);
  expect(messages[1]).toMatchObject({ type: "error", message: expect.stringContaining("authenticate first") });
  ws.send(JSON.stringify({ type: "auth", token: store.users.ana.token }));
  ws.send(JSON.stringify({ type: "subscribe", pattern: "job.>.x" }));
  await waitFor(() => messages.length === 4);
  expect(messages[3]).toMatchObject({ type: "error", message: expect.stringContaining("invalid event pattern") });
});
