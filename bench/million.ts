// A million jobs enqueued and processed in one process (synchronous=NORMAL, concurrency 8):
// peak RSS, and RSS when idle before and after. Prints one JSON line (run by bench/queue.ts).
import { SqliteQueue, jobsMigrations, Worker } from "../src/jobs/index.ts";
import { silentLogger } from "../src/log.ts";
import { freshDb, perSecond } from "./lib/files.ts";

const JOBS = Number(process.argv[2] ?? 1_000_000);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
const idleRss = () => {
  Bun.gc(true);
  return process.memoryUsage().rss;
};

const db = freshDb("million", "NORMAL", jobsMigrations);
const queue = new SqliteQueue(db);
const worker = new Worker({ source: queue, handlers: { noop: () => {} }, concurrency: 8, logger: silentLogger }).start();
await worker.whenIdle();
const before = idleRss();
let peak = before;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);

const t0 = performance.now();
// Enqueued in chunks of 1,000 per transaction while the worker runs, as a busy till would.
for (let i = 0; i < JOBS; i += 1_000) {
  queue.enqueueMany(Array.from({ length: Math.min(1_000, JOBS - i) }, (_, k) => ({ type: "noop", payload: { n: i + k } })));
  if (i % 50_000 === 0) await Bun.sleep(0);
}
const t1 = performance.now();
await worker.whenIdle();
const t2 = performance.now();
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const done = (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").get() as { n: number }).n;
await Bun.sleep(100);
const after = idleRss();
await worker.shutdown();
db.close();
console.log(JSON.stringify({
  bench: "queue", mode: "million", jobs: JOBS, succeeded: done,
  enqueue_jobs_per_s: perSecond(JOBS, t1 - t0), end_to_end_jobs_per_s: perSecond(JOBS, t2 - t0),
  rss_mb: { idle_before: mb(before), peak: mb(peak), idle_after: mb(after) },
  bars: { peak_rss_under_150mb: mb(peak) < 150, back_near_idle: mb(after) - mb(before) < 30 },
}));
