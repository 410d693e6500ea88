// A server for bench/http.ts, run in its own process so the load generator does not share its
// event loop. `bare` serves one constant route on plain Elysia; `store` serves the store app
// (worker running) on a fresh file with a well-stocked book and one job.
// Prints one JSON line {url, book_id, job_id, token} when ready.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { ensureDevUsers } from "../src/runtime/bootstrap.ts";
import { openDatabase } from "../src/db/index.ts";
import { SqliteQueue, Worker } from "../src/jobs/index.ts";
import { silentLogger } from "../src/log.ts";
import { createStoreApp, storeMigrations } from "../src/store/app.ts";
import { createMailer } from "../src/runtime/mailer.ts";

const mode = process.argv[2];
if (mode === "bare") {
  const app = new Elysia().get("/const", () => ({ data: { ok: true } }));
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => app.handle(r) });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}` }));
} else if (mode === "store") {
  // store [FULL|NORMAL] [maxBatch]: maxBatch 1 = one commit per order (group commit off).
  const synchronous = (process.argv[3] ?? "NORMAL") as "FULL" | "NORMAL";
  const maxBatch = Number(process.argv[4] ?? 64);
  const dir = mkdtempSync(join(tmpdir(), "backroom-bench-http-"));
  process.on("SIGTERM", () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  const db = openDatabase(join(dir, "shop.db"), { synchronous, migrations: storeMigrations, groupCommit: { maxBatch } });
  const queue = new SqliteQueue(db);
  const store = createStoreApp({ db, queue, mailer: createMailer({ from: "bench@backroom.local", outbox: join(dir, "outbox") }), logger: silentLogger });
  ensureDevUsers(store.services);
  const context = { auth: null, services: store.services };
  const book = store.services.model("books").create({ title: "Bench", author: "B", price_cents: 100, stock: 1_000_000_000 }, context);
  const jobId = queue.enqueue({ type: "noop_report", actorId: null, maxRetry: 1 });
  if (process.env.BENCH_NO_WORKER !== "1") new Worker({ source: queue, handlers: store.handlers, logger: silentLogger, concurrency: 4 }).start();
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", maxRequestBodySize: store.bodyLimit * 8, fetch: (r) => store.app.handle(r) });
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.port}`, book_id: book.id, job_id: jobId, token: "dev-admin-token" }));
} else {
  console.error("usage: bun bench/http-server.ts bare | store [FULL|NORMAL] [maxBatch]");
  process.exit(2);
}
