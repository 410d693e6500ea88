// Queue throughput against raw SQLite and a real peer, on this machine, in one run.
//
//   npm run bench:queue                         20,000 jobs, 3 rounds, FULL and NORMAL, latency, a million jobs
//   bun bench/queue.ts --jobs 5000 --rounds 1 --sync normal --no-million
//
// Backroom: enqueue N jobs one by one (each its own transaction, as requests would), then
// process them with a no-op handler at concurrency 8, status rows included.
// Raw baselines (bench/lib/raw.ts): the same rows with the minimal SQL, one transaction per
// transition, and 64 rows per transaction. Peer: plainjob at its own default (NORMAL).
// One JSON line per mode: rates (jobs/s), ratios, and whether each bar holds. The machine is
// shared and noisy: each mode runs several rounds, alternating sides, and reports medians.
import { SqliteQueue, jobsMigrations, Worker } from "../src/jobs/index.ts";
import type { Synchronous } from "../src/db/index.ts";
import { silentLogger } from "../src/log.ts";
import { freshDb, median, percentile, perSecond } from "./lib/files.ts";
import { plainjobQueue } from "./lib/plainjob.ts";
import { rawQueue, type RawRates } from "./lib/raw.ts";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const JOBS = Number(flag("--jobs") ?? 20_000);
const ROUNDS = Number(flag("--rounds") ?? 3);
const MODES: Synchronous[] = flag("--sync") ? [flag("--sync")!.toUpperCase() as Synchronous] : ["FULL", "NORMAL"];
const LATENCY_SAMPLES = Number(flag("--latency-samples") ?? 1_000);
const CONCURRENCY = 8;
const payload = (i: number) => ({ order_id: i, customer: "ana@example.com" });
const ratio = (a: number, b: number) => +(a / b).toFixed(2);
const print = (line: object) => console.log(JSON.stringify({ bench: "queue", ...line }));

async function backroom(synchronous: Synchronous, jobs = JOBS): Promise<RawRates> {
  const db = freshDb("backroom", synchronous, jobsMigrations);
  const queue = new SqliteQueue(db);
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) queue.enqueue({ type: "noop", payload: payload(i) });
  const t1 = performance.now();
  const worker = new Worker({ source: queue, handlers: { noop: () => {} }, concurrency: CONCURRENCY, logger: silentLogger }).start();
  await worker.whenIdle();
  const t2 = performance.now();
  await worker.shutdown();
  const done = (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").get() as { n: number }).n;
  db.close();
  if (done !== jobs) throw new Error(`backroom finished ${done} of ${jobs} jobs`);
  return { enqueue: perSecond(jobs, t1 - t0), process: perSecond(jobs, t2 - t1) };
}

const medianOf = (runs: RawRates[]): RawRates => ({ enqueue: median(runs.map((r) => r.enqueue)), process: median(runs.map((r) => r.process)) });

for (const mode of MODES) {
  const ours: RawRates[] = [];
  const raw: RawRates[] = [];
  const raw64: RawRates[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) raw.push(rawQueue(mode, JOBS, 1, payload)), raw64.push(rawQueue(mode, JOBS, 64, payload));
    ours.push(await backroom(mode));
    if (round % 2 === 1) raw.push(rawQueue(mode, JOBS, 1, payload)), raw64.push(rawQueue(mode, JOBS, 64, payload));
  }
  const [b, r, r64] = [medianOf(ours), medianOf(raw), medianOf(raw64)];
  const line: Record<string, unknown> = {
    mode, jobs: JOBS, rounds: ROUNDS, concurrency: CONCURRENCY, unit: "jobs/s",
    backroom: b, raw_per_transition: r, raw_batch_64: r64,
    ratio: { enqueue_vs_raw: ratio(b.enqueue, r.enqueue), process_vs_raw: ratio(b.process, r.process), process_vs_raw_batch_64: ratio(b.process, r64.process) },
  };
  const bars: Record<string, boolean> = { enqueue_at_least_0_9x_raw: b.enqueue >= 0.9 * r.enqueue };
  if (mode === "FULL") bars.process_at_least_20x_raw = b.process >= 20 * r.process;
  if (mode === "NORMAL") {
    const peer = await plainjobQueue(JOBS, payload);
    line.plainjob = peer;
    (line.ratio as Record<string, number>).process_vs_plainjob = ratio(b.process, peer.process);
    bars.process_at_least_6x_plainjob = b.process >= 6 * peer.process;
    bars.process_at_least_0_3x_raw_batch_64 = b.process >= 0.3 * r64.process;
  }
  print({ ...line, bars });
}

if (LATENCY_SAMPLES > 0) {
  // Enqueue-to-start with an idle worker (synchronous=FULL, the default): no polling delay.
  const db = freshDb("latency", "FULL", jobsMigrations);
  const queue = new SqliteQueue(db);
  let started: (at: number) => void = () => {};
  const worker = new Worker({ source: queue, handlers: { ping: () => started(performance.now()) }, concurrency: CONCURRENCY, logger: silentLogger, pollIntervalMs: 60_000 }).start();
  await worker.whenIdle();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const start = new Promise<number>((resolve) => (started = resolve));
    const t0 = performance.now();
    queue.enqueue({ type: "ping" });
    samples.push((await start) - t0);
    await worker.whenIdle();
  }
  await worker.shutdown();
  db.close();
  const p50 = +percentile(samples, 50).toFixed(3);
  const p99 = +percentile(samples, 99).toFixed(3);
  print({ mode: "latency", what: "enqueue to handler start, idle worker, synchronous=FULL", samples: LATENCY_SAMPLES, p50_ms: p50, p99_ms: p99, bars: { p50_under_1ms: p50 < 1, p99_under_5ms: p99 < 5 } });
}

if (!args.includes("--no-million")) {
  // In its own process, so its peak RSS is its own.
  const run = Bun.spawnSync([process.execPath, `${import.meta.dir}/million.ts`], { stdout: "pipe", stderr: "inherit" });
  process.stdout.write(run.stdout.toString());
  if (run.exitCode !== 0) process.exit(run.exitCode ?? 1);
}
