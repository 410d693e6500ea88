// The till's events survive everything between it and head office: a till whose broker is down
// takes 1,000 orders, is killed with kill -9, is restarted while the broker is still down, and
// then the broker comes back — every order.created reaches a subscriber in another process, in
// publish order, none missing (duplicates allowed, and counted). Once on NATS (a nats-server of
// our own, so the machine's shared one is never stopped), once on Kafka (librdkafka's mock
// cluster run by kcat: the Kafka protocol, not Apache Kafka). 20,000 kept events, past the old
// in-memory limit of 10,000, are checked at the outbox level (outbox.test.ts): 20,000 real
// orders would take minutes here.
import { afterEach, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/open.ts";
import { killChildren, spawnBun, spawnCommand, type Child } from "../support/child.ts";
import { KCAT, startKafkaMock, type KafkaMock } from "../support/kafka-mock.ts";
import { freePort, portOpen } from "../support/ports.ts";
import { listeningUrl } from "../support/serve-child.ts";
import { tcpProxy } from "../support/tcp-proxy.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";
import { toolPresent } from "../support/engines.ts";

afterEach(killChildren);

const ORDERS = 1_000;
const NATS_SERVER = ["/usr/sbin/nats-server", Bun.which("nats-server")].find((p) => p && Bun.file(p).size > 0) ?? null;

interface Broker {
  /** Starts the broker (it was down until now). */
  start(): Promise<void>;
  /** Where the till's connections are forwarded once the line is up. */
  port(): number;
  /** The bus URL for a till that reaches the broker through `proxyPort`. */
  tillUrl(proxyPort: number): string;
  /** The bus URL for the subscriber, straight to the broker. */
  listenerUrl(): string;
  stop(): Promise<void>;
}

async function placeOrders(base: string, bookId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  const headers = { authorization: "Bearer dev-ana-token", "content-type": "application/json" };
  for (let from = 0; from < n; from += 25) {
    const answers = await Promise.all(Array.from({ length: Math.min(25, n - from) }, async () => {
      const placed = await fetch(`${base}/api/orders`, { method: "POST", headers, body: JSON.stringify({ lines: [{ book_id: bookId, quantity: 1 }] }) });
      if (placed.status !== 202) throw new Error(`order answered ${placed.status}: ${await placed.text()}`);
      return ((await placed.json()) as { data: { order_id: string } }).data.order_id;
    }));
    ids.push(...answers);
  }
  return ids;
}

function tillSurvives(name: string, broker: () => Broker) {
  test(`${name}: a till whose broker is down takes ${ORDERS} orders, is killed with kill -9 and restarted while it is still down; once it is back, every order.created reaches a subscriber in another process, in order`, async () => {
    const tmp = tempDir();
    const b = broker();
    const proxy = tcpProxy(() => b.port());
    proxy.down(); // the line to head office is down, and so is head office
    const serve = () => spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("till.db"), "--dev", "--bus", b.tillUrl(proxy.port), "--log-level", "error"]);
    let listener: Child | null = null;
    try {
      const till = serve();
      const base = await listeningUrl(till);
      const created = await fetch(`${base}/api/books`, { method: "POST", headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" }, body: JSON.stringify({ title: "Stocked", author: "A", price_cents: 100, stock: 1_000_000 }) });
      expect(created.status).toBe(201);
      const bookId = ((await created.json()) as { data: { id: string } }).data.id;
      const orderIds = await placeOrders(base, bookId, ORDERS);

      till.proc.kill("SIGKILL");
      await till.proc.exited;
      const file = openDatabase(tmp.file("till.db"), { readonly: true });
      const kept = (file.sqlite.query("SELECT count(*) AS n FROM event_outbox_waiting WHERE event LIKE '%\"type\":\"order.created\"%'").get() as { n: number }).n;
      file.close();
      expect(kept).toBe(ORDERS); // in the file, with the orders: nothing in memory to lose

      const again = serve(); // restarted while the broker is still down
      await listeningUrl(again);
      await b.start();
      listener = spawnBun("test/support/fixtures/event-listener.ts", [b.listenerUrl(), "order.created"]);
      await listener.waitForLine(/^ready$/, 30_000);
      proxy.up(); // head office is back

      const arrived = () => listener!.output().split("\n").filter((l) => l.startsWith("event ")).map((l) => l.split(" ") as [string, string, string]);
      await waitFor(() => new Set(arrived().map(([, , orderId]) => orderId)).size >= ORDERS, 90_000, `all ${ORDERS} order.created events`);
      const events = arrived();
      const firsts = new Map<string, string>();
      for (const [, eventId, orderId] of events) if (!firsts.has(orderId)) firsts.set(orderId, eventId);
      expect([...firsts.keys()].sort()).toEqual([...orderIds].sort()); // none missing, none foreign
      const firstIds = [...firsts.values()];
      expect(firstIds).toEqual([...firstIds].sort()); // in publish order (event ids are monotonic ULIDs)
      const duplicates = events.length - firsts.size;
      console.log(`${name}: ${ORDERS} orders, ${events.length} deliveries, ${duplicates} duplicates`);
    } finally {
      await killChildren();
      proxy.stop();
      await b.stop();
      tmp.remove();
    }
  }, 180_000);
}

if (toolPresent(NATS_SERVER, "nats-server (/usr/sbin/nats-server)", "outbox crash test on NATS")) {
  let port = 0;
  let server: Child | null = null;
  const dir = tempDir();
  tillSurvives("nats", () => ({
    async start() {
      port ||= await freePort();
      server = spawnCommand([NATS_SERVER!, "-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir.dir]);
      await waitFor(() => portOpen(port), 10_000, "nats-server to listen");
    },
    port: () => port,
    tillUrl: (proxyPort) => `nats://127.0.0.1:${proxyPort}`,
    listenerUrl: () => `nats://127.0.0.1:${port}`,
    async stop() {
      server?.proc.kill("SIGKILL");
      await server?.proc.exited;
      dir.remove();
    },
  }));
}

if (toolPresent(KCAT, "kcat (librdkafka's mock Kafka cluster)", "outbox crash test on Kafka")) {
  let mock: KafkaMock | null = null;
  tillSurvives("kafka (mock cluster)", () => ({
    async start() {
      mock = await startKafkaMock(1);
    },
    port: () => mock?.ports[0] ?? 1,
    tillUrl: (proxyPort) => `kafka://127.0.0.1:${proxyPort}`,
    listenerUrl: () => mock!.url,
    stop: async () => mock?.stop(),
  }));
}
