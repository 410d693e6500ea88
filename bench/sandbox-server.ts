// A server for bench/sandbox.ts, in its own process (the real runtime: startServer, its worker
// and, for sandboxed types, its thread pool): the bookstore plus a CPU-bound `busy` job type
// and an action that queues N of them. Modes choose where handlers run:
//   busy-inline | busy-sandbox        the busy type on the request thread, or in the pool
//   receipt-inline | receipt-sandbox  the store's receipt handler, or its sandboxed twin
// Prints one JSON line {url, book_id, job_id} when ready; SIGTERM stops it and removes its files.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineAction, defineApp, silentLogger, startServer, t, type JobHandlers } from "../src/index.ts";
import { bookstore } from "../src/store/app.ts";
import { busyWork } from "./busy-work.ts";

const mode = process.argv[2] ?? "busy-inline";
const dir = mkdtempSync(join(tmpdir(), "backroom-bench-sandbox-"));
const outbox = join(dir, "outbox");
const from = "Backroom Books <till@backroom.local>";

const queueBusy = defineAction({
  method: "POST",
  path: "/bench/busy",
  access: { role: "admin" },
  body: t.Object({ count: t.Integer({ minimum: 1 }), ms: t.Integer({ minimum: 0 }) }),
  response: t.Object({ first: t.String() }),
  status: 202,
  async handler({ body, services, transaction }) {
    const ids = await transaction(() => services.queue.enqueueMany(Array.from({ length: body.count }, () => ({ type: "busy", payload: { ms: body.ms } }))));
    return { status: 202 as const, data: { first: ids[0]! } };
  },
});

const busy = mode === "busy-sandbox" ? { sandbox: { module: new URL("./busy-work.ts", import.meta.url), export: "busyWork" } } : { handler: busyWork };
const receipt = mode === "receipt-sandbox" ? { send_receipt: { sandbox: { module: new URL("./receipt-sandboxed.ts", import.meta.url), export: "sendReceipt", readDatabase: true, data: { from, outbox } } } } : {};
const app = defineApp({
  ...bookstore,
  actions: [...bookstore.actions, queueBusy],
  jobs: (context) => ({ ...(bookstore.jobs(context) as JobHandlers), busy, ...receipt }) as JobHandlers,
});

const server = await startServer(app, { db: join(dir, "shop.db"), port: 0, dev: true, sync: "full", outbox, logger: silentLogger, sandboxThreads: Number(process.env.SANDBOX_THREADS ?? 1) });
const { services } = server.built;
const book = await services.db.write(() => services.model("books").create({ title: "Bench", author: "B", price_cents: 100, stock: 1_000_000_000 }, { auth: null, services }));
const jobId = await services.db.write(() => services.queue.enqueue({ type: "busy", payload: { ms: 0 } }));
process.on("SIGTERM", async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
console.log(JSON.stringify({ url: server.url, book_id: book.id, job_id: jobId }));
