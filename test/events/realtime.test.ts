// Realtime over a real WebSocket: a client sees its own job go from started to completed,
// and never another user's; admins see both.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { jobEventSink } from "../../src/events/job-events.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { addUser, testApp } from "../api/support.ts";
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
  const state = { closeCode: null as number | null };
  ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)));
  ws.onclose = (e) => (state.closeCode = e.code);
  await waitFor(() => messages.some((m) => m.type === "ready"));
  ws.send(JSON.stringify({ type: "subscribe", pattern }));
  await waitFor(() => messages.some((m) => m.type === "subscribed"));
  return { ws, messages, state, events: () => messages.filter((m) => m.type === "event").map((m) => m.event) };
}

const json = (token: string, method: string, body?: unknown): RequestInit => ({ method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

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
  // A marker: ben's own order, published after ana's. Events reach a socket in publish order,
  // so once ben has his own, ana's would have arrived before it if it were leaking.
  const placed = await fetch(`http://${base}/api/orders`, { method: "POST", headers: { authorization: `Bearer ${store.users.ben.token}`, "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book!.id, quantity: 1 }] }) });
  const bens = ((await placed.json()) as { data: { order_id: string } }).data.order_id;
  await waitFor(() => ben.events().length >= 1, 5_000, "ben's own order.created");
  expect(ben.events().map((e: any) => [e.type, e.data?.id ?? e.subject])).toEqual([["order.created", bens]]);
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

test("revoking a subscribed admin's token closes its socket (1008) at once; revoking another token does not", async () => {
  const root = await client(store.users.admin.token, ">");
  const ana = await client(store.users.ana.token, ">");
  const [anasToken] = app.services.tokens.listFor(store.users.ana.id);
  expect((await fetch(`http://${base}/api/tokens/${anasToken!.id}`, json(store.users.admin.token, "DELETE"))).status).toBe(204);
  await waitFor(() => ana.state.closeCode !== null, 5_000, "ana's socket to close");
  expect(ana.state.closeCode).toBe(1008);
  // Each delivery re-checks the token after a change: the admin's marker proves its socket kept working.
  await bus.publish("marker.after_revoke", {}, { visibility: "all" });
  await waitFor(() => root.events().some((e: any) => e.type === "marker.after_revoke"), 5_000, "the marker");
  expect(root.state.closeCode).toBeNull();
  const [rootsToken] = app.services.tokens.listFor(store.users.admin.id);
  expect((await fetch(`http://${base}/api/tokens/${rootsToken!.id}`, json(store.users.admin.token, "DELETE"))).status).toBe(204);
  await waitFor(() => root.state.closeCode !== null, 5_000, "the revoked admin's socket to close");
  expect(root.state.closeCode).toBe(1008);
});

test("a demoted admin's socket is re-scoped at once: other users' orders stop reaching it, public events do not", async () => {
  const boss = addUser(app.services, "boss", ["admin"]);
  const root = await client(store.users.admin.token, ">");
  const ana = await client(store.users.ana.token, "order.*");
  const [book] = store.books();
  expect((await fetch(`http://${base}/api/users/${store.users.admin.id}`, json(boss.token, "PATCH", { roles: [] }))).status).toBe(200);
  expect((await fetch(`http://${base}/api/orders`, json(store.users.ana.token, "POST", { lines: [{ book_id: book!.id, quantity: 1 }] }))).status).toBe(202);
  await waitFor(() => ana.events().some((e: any) => e.type === "order.created"), 5_000, "ana's order.created");
  // One queue per subscription, in publish order: the marker arrives after anything published before it.
  await bus.publish("marker.after_order", {}, { visibility: "all" });
  await waitFor(() => root.events().some((e: any) => e.type === "marker.after_order"), 5_000, "the marker");
  expect(root.events().map((e: any) => e.type)).not.toContain("order.created");
  expect(root.events().map((e: any) => e.type)).not.toContain("user.updated");
  expect(root.state.closeCode).toBeNull();
});

test("deleting a subscribed admin closes its socket (1008) at once", async () => {
  const boss = addUser(app.services, "boss", ["admin"]);
  const root = await client(store.users.admin.token, ">");
  expect((await fetch(`http://${base}/api/users/${store.users.admin.id}`, json(boss.token, "DELETE"))).status).toBe(204);
  await waitFor(() => root.state.closeCode !== null, 5_000, "the deleted admin's socket to close");
  expect(root.state.closeCode).toBe(1008);
  expect(root.events().map((e: any) => e.type)).not.toContain("user.deleted");
});

describe("unauthenticated clients", () => {
  let limited: ReturnType<typeof testApp>;
  let url: string;
  beforeEach(() => {
    limited = testApp({ bus: new InProcessBus({ logger: silentLogger }), realtime: { authTimeoutMs: 150 } });
    limited.app.listen({ port: 0, hostname: "127.0.0.1" });
    url = `ws://127.0.0.1:${limited.app.server!.port}/api/realtime`;
  });
  afterEach(async () => {
    await limited.app.stop(true);
    limited.db.close();
  });

  function open() {
    const ws = new WebSocket(url);
    sockets.push(ws);
    const seen = { messages: [] as any[], closeCode: null as number | null, closeReason: "" };
    ws.onmessage = (m) => seen.messages.push(JSON.parse(String(m.data)));
    ws.onclose = (e) => ((seen.closeCode = e.code), (seen.closeReason = e.reason));
    return { ws, seen, ready: waitFor(() => seen.messages.some((m) => m.type === "ready"), 5_000, "ready") };
  }

  test("a socket that does not authenticate within the deadline is closed (1008); one that did stays open", async () => {
    const user = addUser(limited.services, "ana");
    const signedIn = open();
    await signedIn.ready;
    signedIn.ws.send(JSON.stringify({ type: "auth", token: user.token }));
    await waitFor(() => signedIn.seen.messages.some((m) => m.authenticated === true), 5_000, "the auth reply");
    const silent = open();
    await silent.ready;
    await waitFor(() => silent.seen.closeCode !== null, 5_000, "the silent socket to be closed");
    expect(silent.seen).toMatchObject({ closeCode: 1008, closeReason: "authentication timed out" });
    // It was opened before the silent one and authenticated: its deadline had passed too.
    expect(signedIn.seen.closeCode).toBeNull();
    expect(signedIn.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("a message over the size cap closes the socket (1009) unanswered, before it is parsed", async () => {
    const big = open();
    await big.ready;
    big.ws.send(JSON.stringify({ type: "subscribe", pattern: "x".repeat(1024 * 1024) }));
    await waitFor(() => big.seen.closeCode !== null, 5_000, "the socket to be closed");
    expect(big.seen.closeCode).toBe(1009);
    expect(big.seen.messages.map((m) => m.type)).toEqual(["ready"]);
  });
});
