// The demo the binary runs until the REST API exists: a till places orders, each order and
// its follow-up jobs committed in ONE transaction, and the worker pool carries the jobs out —
// a receipt written to the outbox folder, an inventory sync serialised per store that fails
// once and is retried, a delayed end-of-day report, and a job nobody handles (dead-lettered).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase, type Migration } from "../db/index.ts";
import { jobsMigrations, MemoryQueue, SqliteQueue, Worker, type StatusChange } from "../jobs/index.ts";
import { silentLogger } from "../log.ts";

const demoMigrations: Migration[] = [
  {
    component: "demo",
    version: 1,
    name: "orders",
    up: `CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total_cents INTEGER NOT NULL, created_at INTEGER NOT NULL)`,
  },
];

export interface DemoOptions {
  db: string;
  /** Use the in-memory queue (and an in-memory database for the orders). */
  memory: boolean;
  sync: "FULL" | "NORMAL";
  outbox: string;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const db = openDatabase(options.memory ? ":memory:" : options.db, { synchronous: options.sync, migrations: [...jobsMigrations, ...demoMigrations] });
  const queue = options.memory ? new MemoryQueue() : new SqliteQueue(db);
  mkdirSync(options.outbox, { recursive: true });
  const say = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)}  ${line}`);

  const syncAttempts = new Map<string, number>();
  const worker = new Worker({
    source: queue,
    concurrency: 4,
    logger: silentLogger,
    deadLetterType: "alert_operator",
    status: { record: (changes) => changes.forEach((c) => say(describe(c))) },
    handlers: {
      send_receipt: (job) => {
        const { order_id, customer, total_cents } = job.payload as { order_id: number; customer: string; total_cents: number };
        const file = join(options.outbox, `receipt-${order_id}-${job.id}.eml`);
        writeFileSync(file, `To: ${customer}\nSubject: Your receipt for order ${order_id}\n\nTotal: ${(total_cents / 100).toFixed(2)}\n`);
        return { url: `file://${file}`, mime: "message/rfc822" };
      },
      sync_inventory: async (job) => {
        const tries = (syncAttempts.get(job.id) ?? 0) + 1;
        syncAttempts.set(job.id, tries);
        await Bun.sleep(50);
        if (tries === 1 && (job.payload as { order_id: number }).order_id % 2 === 0) throw new Error("head office unreachable");
        return { output: { synced: true } };
      },
      daily_report: () => {
        const row = db.sqlite.query("SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS revenue FROM orders").get() as { orders: number; revenue: number };
        return { output: row };
      },
      alert_operator: (job) => say(`   operator alerted: ${JSON.stringify(job.payload)}`),
    },
  });

  say(options.memory ? `in-memory queue, outbox ${options.outbox}` : `database ${options.db} (synchronous=${options.sync}), outbox ${options.outbox}`);
  const ids: string[] = [];
  for (const [customer, total] of [["ana@example.com", 1250], ["ben@example.com", 4999], ["cy@example.com", 800]] as const) {
    // The order and its jobs commit together, or not at all.
    db.transaction(() => {
      const { lastInsertRowid } = db.sqlite.run("INSERT INTO orders (customer, total_cents, created_at) VALUES (?, ?, ?)", [customer, total, Date.now()]);
      const order = { order_id: Number(lastInsertRowid), customer, total_cents: total };
      ids.push(queue.enqueue({ type: "send_receipt", payload: order, actorId: customer }));
      ids.push(queue.enqueue({ type: "sync_inventory", payload: order, groupKey: "store-1" }));
      say(`order ${order.order_id} placed for ${customer}`);
    });
  }
  ids.push(queue.enqueueAt(Date.now() + 1_500, { type: "daily_report", uniqueKey: `report-${new Date().toISOString().slice(0, 10)}` }));
  ids.push(queue.enqueue({ type: "print_label", maxRetry: 1 }));

  const stop = async () => {
    await worker.shutdown(5_000);
    db.close();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  process.once("SIGTERM", () => void stop().then(() => process.exit(143)));

  worker.start();
  const keepAlive = setInterval(() => {}, 1_000);
  while (ids.some((id) => !["succeeded", "dead", "cancelled"].includes(queue.getStatus(id)?.status ?? "")) || worker.activeCount > 0) {
    await Bun.sleep(50);
  }
  await worker.whenIdle();
  clearInterval(keepAlive);
  await stop();
  say(options.memory ? "all demo jobs finished" : `all demo jobs finished; inspect them with: sqlite3 ${options.db} "SELECT type, status, attempts, error FROM job_statuses"`);
}

function describe(change: StatusChange): string {
  const { job, status, attempts, error } = change;
  const detail = error ? ` — ${error}` : "";
  return `job ${job.id} ${job.type.padEnd(14)} ${status.padEnd(9)} attempt ${attempts}/${job.maxRetry}${detail}`;
}
