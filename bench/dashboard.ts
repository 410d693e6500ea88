// The dashboard's queries on a database holding a million finished jobs (plus a few thousand
// waiting, running and dead ones, in named queues): each must stay bounded — the queues page
// and a job's attempt history included (issue 18: under 5 ms each). Prints one JSON line of
// milliseconds per request (median of 5), answered through app.handle.
//   npm run bench:dashboard     bun bench/dashboard.ts --finished 1000000
import { openDatabase } from "../src/db/index.ts";
import { SqliteQueue } from "../src/jobs/index.ts";
import { silentLogger } from "../src/log.ts";
import { ensureDevUsers } from "../src/runtime/bootstrap.ts";
import { createStoreApp, storeMigrations } from "../src/store/app.ts";
import { createMailer } from "../src/runtime/mailer.ts";
import { freshPath, median } from "./lib/files.ts";

const args = process.argv.slice(2);
const FINISHED = args.includes("--finished") ? Number(args[args.indexOf("--finished") + 1]) : 1_000_000;
const db = openDatabase(freshPath("dashboard"), { synchronous: "NORMAL", migrations: storeMigrations });
const queue = new SqliteQueue(db);
const app = createStoreApp({ db, queue, mailer: createMailer({ from: "b@b.l", outbox: "/tmp/backroom-bench-outbox" }), logger: silentLogger });
ensureDevUsers(app.services);

const t0 = performance.now();
for (let done = 0; done < FINISHED; done += 50_000) {
  queue.enqueueMany(Array.from({ length: Math.min(50_000, FINISHED - done) }, (_, i) => (i % 10 === 0 ? { type: "webhook_delivery", queue: "webhooks", payload: { i } } : { type: "send_receipt", queue: "mail", payload: { i } })));
}
db.sqlite.run("UPDATE jobs SET status = 'succeeded', completed_at = created_at + 5, started_at = created_at + 1 WHERE status = 'enqueued'");
queue.enqueueMany(Array.from({ length: 3_000 }, (_, i) => (i % 3 ? { type: "send_receipt", queue: "mail", notBefore: Date.now() + 3_600_000 } : { type: "daily_report", queue: "reports", notBefore: Date.now() + 3_600_000 })));
db.sqlite.run("UPDATE jobs SET status = 'dead', error = 'x', completed_at = created_at WHERE rowid IN (SELECT rowid FROM jobs WHERE status = 'succeeded' LIMIT 500)");
// What the worker's settles would have kept: the succeeded jobs per queue.
db.sqlite.run("INSERT INTO job_queue_succeeded (queue, n) SELECT queue, count(*) FROM jobs WHERE status = 'succeeded' GROUP BY queue");
// A job that failed five times and then died: its attempt history has six entries.
const troubled = queue.enqueue({ type: "webhook_delivery", maxRetry: 6, queue: "webhooks" });
for (let attempt = 1; attempt <= 6; attempt++) {
  const { claimed } = await queue.settleAndClaim([], 1, 30_000);
  const job = claimed[0]!;
  const error = new Error(`502 from head office (attempt ${attempt})`);
  const at = Date.now();
  await queue.settleAndClaim([attempt < 6 ? { kind: "failed", job, error: error.message, stack: error.stack, retryAt: at, at, startedAt: at - 40 } : { kind: "dead", job, error: error.message, stack: error.stack, at, startedAt: at - 40 }], 0, 30_000);
}
queue.setQueuePaused("reports", true);
const seeded = Math.round(performance.now() - t0);

const prefix = (db.sqlite.query("SELECT id FROM jobs ORDER BY id DESC LIMIT 1 OFFSET 5000").get() as { id: string }).id.slice(0, 16);
const userIds = (db.sqlite.query("SELECT id FROM users").all() as { id: string }[]).map((u) => u.id).join(",");
const time = async (path: string) => {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await app.app.handle(new Request(`http://localhost${path}`, { headers: { authorization: "Bearer dev-admin-token" } }));
    await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    samples.push(performance.now() - t);
  }
  return +median(samples).toFixed(1);
};
console.log(JSON.stringify({
  bench: "dashboard",
  finished_jobs: FINISHED,
  seed_ms: seeded,
  ms: {
    overview: await time("/api/admin/overview"),
    jobs_page_1: await time("/api/job_statuses?sort=-id&limit=25"),
    jobs_page_40: await time("/api/job_statuses?sort=-id&limit=25&page=40"),
    jobs_dead: await time("/api/job_statuses?status=dead&sort=-id&limit=25"),
    jobs_by_type: await time("/api/job_statuses?type=webhook_delivery&sort=-id&limit=25"),
    job_detail: await time(`/api/admin/jobs/${(db.sqlite.query("SELECT id FROM jobs LIMIT 1").get() as { id: string }).id}`),
    webhooks_failures: await time("/api/job_statuses?type=webhook_delivery&filter=status:in:failed,dead&sort=-id&limit=20"),
    queues: await time("/api/queues"),
    attempt_history: await time(`/api/job_statuses/${troubled}`),
    // The dashboard's own searches and pages (issue 18): an id prefix is a range on the key;
    // "type contains" is a LIKE, cheap for a common type, a scan for one that matches nothing.
    jobs_id_prefix: await time(`/api/job_statuses?sort=-id&limit=25&filter=id:gte:${prefix}&filter=id:lt:${prefix}~`),
    jobs_type_contains: await time("/api/job_statuses?sort=-id&limit=25&filter=type:like:%25hook%25"),
    jobs_type_contains_none: await time("/api/job_statuses?sort=-id&limit=25&filter=type:like:%25nothing%25"),
    actors: await time(`/api/users?limit=100&filter=id:in:${userIds}`),
    webhook_deliveries: await time("/api/admin/webhook_deliveries?limit=20"),
    webhook_deliveries_failing: await time("/api/admin/webhook_deliveries?limit=20&status=failed,dead"),
  },
}));
db.close();
