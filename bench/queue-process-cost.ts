// The worker's CPU cost per job processed (claim, run a no-op, settle), without the enqueues,
// on a database file as the product runs it (synchronous=FULL: the WAL writes are counted,
// the fsyncs are system time and are not), from any checkout, so two versions can be compared
// by instruction counts on this shared, noisy machine:
//   bun bench/queue-process-cost.ts prepare <checkout> <file> <jobs>     (not measured)
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bun bench/queue-process-cost.ts process <checkout> <file>
//   … batches <checkout> <file>: the queue alone, in the worker's steady state under a backlog
//     (each commit settles the last batch's successes and claims 264, 8 started, 256 ahead), with
//     no timers, so batch sizes and the count do not depend on how fast the machine is.
// Prepare two files (say 1,000 and 4,000 jobs), process a fresh copy of each: the difference
// of the two totals over the difference in jobs is the cost of one job.
const [mode, root, path, count] = process.argv.slice(2);
if (!["prepare", "process", "batches"].includes(mode!) || !root || !path) throw new Error("usage: prepare|process <checkout> <file> [jobs]");
// Typed as this checkout's modules; an older checkout's have the same shape for what is used here.
const { SqliteQueue, jobsMigrations, Worker }: typeof import("../src/jobs/index.ts") = await import(`${root}/src/jobs/index.ts`);
const { openDatabase }: typeof import("../src/db/index.ts") = await import(`${root}/src/db/index.ts`);
const { silentLogger }: typeof import("../src/log.ts") = await import(`${root}/src/log.ts`);
import type { Job, Outcome } from "../src/jobs/index.ts";
const db = openDatabase(path, { migrations: jobsMigrations, synchronous: "FULL" });
const queue = new SqliteQueue(db);
if (mode === "prepare") {
  const jobs = Number(count);
  for (let i = 0; i < jobs; i++) queue.enqueue({ type: "noop", payload: { order_id: i, customer: "ana@example.com" } });
  db.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
} else if (mode === "batches") {
  // FRAMES=1: also count the WAL frames the processing writes (automatic checkpoints off, so
  // the WAL holds them all; not for instruction counts, as checkpoints are part of the cost).
  const frames = process.env.FRAMES === "1";
  if (frames) db.sqlite.exec("PRAGMA wal_autocheckpoint = 0");
  let claimed: Job[] = [];
  let done = 0;
  do {
    const outcomes: Outcome[] = claimed.map((job) => ({ kind: "succeeded", job, result: {}, at: Date.now() }));
    done += outcomes.length;
    claimed = (await queue.settleAndClaim(outcomes, 264, 30_000, { startNow: 8 })).claimed;
  } while (claimed.length > 0);
  const walFrames = frames ? (Bun.file(`${path}-wal`).size - 32) / (4096 + 24) : undefined;
  console.log(JSON.stringify({ bench: "queue-process-cost", mode, succeeded: done, walFrames }));
} else {
  const worker = new Worker({ source: queue, handlers: { noop: () => {} }, concurrency: 8, logger: silentLogger }).start();
  await worker.whenIdle();
  await worker.shutdown();
  const done = (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").get() as { n: number }).n;
  console.log(JSON.stringify({ bench: "queue-process-cost", succeeded: done }));
}
db.close();
