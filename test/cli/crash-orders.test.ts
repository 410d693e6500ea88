// kill -9 under concurrent order traffic (group commit on, synchronous=FULL): every 2xx a
// client saw is in the file after the crash, with its stock taken and its receipt job queued;
// nothing half-written is there.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { killChildren, spawnBun, type Child } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
let child: Child | null = null;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren();
  tmp.remove();
});

const STOCK = 1_000_000;

test("every acknowledged order survives kill -9 with its stock and job; nothing else half-written", async () => {
  const db = tmp.file("shop.db");
  child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", db, "--dev", "--log-level", "error"]);
  const url = /(http:\/\/\S+)/.exec(await child.waitForLine(/^Backroom listening on /))![1]!;
  const admin = { authorization: "Bearer dev-admin-token", "content-type": "application/json" };
  const book = (await (await fetch(`${url}/api/books`, { method: "POST", headers: admin, body: JSON.stringify({ title: "Crash", author: "T", price_cents: 100, stock: STOCK }) })).json()) as { data: { id: string } };

  const acknowledged: { order_id: string; job_id: string; quantity: number }[] = [];
  let stop = false;
  const client = async (n: number) => {
    const headers = { authorization: `Bearer dev-${n % 2 ? "ana" : "ben"}-token`, "content-type": "application/json" };
    for (let i = 0; !stop && i < 10_000; i++) {
      const quantity = 1 + ((n + i) % 3);
      try {
        const res = await fetch(`${url}/api/orders`, { method: "POST", headers, body: JSON.stringify({ lines: [{ book_id: book.data.id, quantity }] }) });
        if (res.status === 202) acknowledged.push({ ...((await res.json()) as { data: { order_id: string; job_id: string } }).data, quantity });
      } catch {
        return; // the server died mid-request: that order was never acknowledged
      }
    }
  };
  const clients = Array.from({ length: 16 }, (_, n) => client(n));
  await waitFor(() => acknowledged.length >= 300, 20_000, "300 acknowledged orders");
  child.proc.kill("SIGKILL");
  await child.proc.exited;
  stop = true;
  await Promise.all(clients);

  const reader = openDatabase(db, { readonly: true });
  const orders = new Map((reader.sqlite.query("SELECT id, lines FROM orders").all() as { id: string; lines: string }[]).map((o) => [o.id, JSON.parse(o.lines)[0].quantity as number]));
  const jobs = reader.sqlite.query("SELECT id, payload FROM jobs WHERE type = 'send_receipt'").all() as { id: string; payload: string }[];
  const stock = (reader.sqlite.query("SELECT stock FROM books WHERE id = ?").get(book.data.id) as { stock: number }).stock;
  reader.close();

  for (const ack of acknowledged) expect(orders.get(ack.order_id)).toBe(ack.quantity);
  const jobIds = new Set(jobs.map((j) => j.id));
  for (const ack of acknowledged) expect(jobIds.has(ack.job_id)).toBe(true);
  // Nothing half-written: each order has exactly one receipt job, and the stock taken is
  // exactly what the stored orders add up to.
  expect(new Set(jobs.map((j) => JSON.parse(j.payload).order_id))).toEqual(new Set(orders.keys()));
  expect(jobs.length).toBe(orders.size);
  expect(STOCK - stock).toBe([...orders.values()].reduce((a, b) => a + b, 0));
  expect(orders.size).toBeGreaterThanOrEqual(acknowledged.length);
}, 60_000);
