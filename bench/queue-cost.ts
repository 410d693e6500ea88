// The queue's CPU cost per job, free of disk noise: N jobs enqueued one by one and processed
// with a no-op handler at concurrency 8, on an in-memory database, from any checkout (so two
// versions can be compared on this shared, noisy machine by instruction counts, not seconds):
//   N=2000 valgrind --tool=callgrind --callgrind-out-file=/dev/null bun bench/queue-cost.ts <checkout>
//   N=6000 …   (the difference of the two totals, divided by 4000, is the cost of one job)
// Without valgrind it prints jobs/s (noisy here: compare medians of many alternating runs).
const root = process.argv[2] ?? new URL("..", import.meta.url).pathname;
const { SqliteQueue, jobsMigrations, Worker } = await import(`${root}/src/jobs/index.ts`);
const { openDatabase } = await import(`${root}/src/db/index.ts`);
const { silentLogger } = await import(`${root}/src/log.ts`);
const N = Number(process.env.N ?? 20_000);
const db = openDatabase(":memory:", { migrations: jobsMigrations, synchronous: "NORMAL" });
const queue = new SqliteQueue(db);
for (let i = 0; i < N; i++) queue.enqueue({ type: "noop", payload: { i } });
const t0 = performance.now();
const worker = new Worker({ source: queue, handlers: { noop: () => {} }, concurrency: 8, logger: silentLogger }).start();
await worker.whenIdle();
const t1 = performance.now();
await worker.shutdown();
console.log(JSON.stringify({ bench: "queue-cost", jobs: N, process_per_s: Math.round(N / ((t1 - t0) / 1000)) }));
