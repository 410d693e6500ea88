// Queue throughput against the raw SQLite baseline, on this machine, in one run.
//
//   npm run bench                       (defaults: 20000 jobs, 3 rounds, synchronous FULL and NORMAL)
//   bun bench/queue.ts --jobs 5000 --rounds 5 --sync normal
//
// Backroom: enqueue N jobs one by one (each its own transaction, as requests would), then
// process them with a no-op handler at concurrency 8, status rows included.
// Raw baseline: the same N rows inserted one per transaction, then each claimed and completed
// with the minimal SQL, one transaction per transition, same file settings.
// Prints ONE JSON line: jobs/s for enqueue, process and end to end (N / both phases' time),
// for both, the ratios backroom/raw, and peak RSS. The machine is shared and noisy, so each
// mode runs several rounds, alternating which side goes first, and reports medians.
import { mkdirSync, rmSync } from "node:fs";
import { monotonicFactory } from "ulid";
import { openDatabase, type Db, type Synchronous } from "../src/db/index.ts";
import { SqliteQueue, jobsMigrations, Worker } from "../src/jobs/index.ts";
import { silentLogger } from "../src/log.ts";

interface Rates {
  enqueue: number;
  process: number;
  end_to_end: number;
}

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const JOBS = Number(flag("--jobs") ?? 20_000);
const MODES: Synchronous[] = flag("--sync") ? [flag("--sync")!.toUpperCase() as Synchronous] : ["FULL", "NORMAL"];
const ROUNDS = Number(flag("--rounds") ?? 3);
const CONCURRENCY = 8;
const DIR = `${process.env.TMPDIR ?? "/tmp"}/backroom-bench-${process.pid}`;
const payload = (i: number) => ({ order_id: i, customer: "ana@example.com" });

function freshDb(name: string, synchronous: Synchronous, migrations = jobsMigrations): Db {
  const path = `${DIR}/${name}.db`;
  for (const suffix of ["", "-wal", "-shm", "-lock"]) rmSync(path + suffix, { force: true });
  return openDatabase(path, { synchronous, migrations });
}

function rates(enqueueMs: number, processMs: number): Rates {
  return {
    enqueue: Math.round(JOBS / (enqueueMs / 1000)),
    process: Math.round(JOBS / (processMs / 1000)),
    end_to_end: Math.round(JOBS / ((enqueueMs + processMs) / 1000)),
  };
}

async function backroom(synchronous: Synchronous): Promise<Rates> {
  const db = freshDb("backroom", synchronous);
  const queue = new SqliteQueue(db);
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) queue.enqueue({ type: "noop", payload: payload(i) });
  const t1 = performance.now();
  const worker = new Worker({ source: queue, handlers: { noop: () => {} }, concurrency: CONCURRENCY, logger: silentLogger });
  worker.start();
  await worker.whenIdle();
  const t2 = performance.now();
  await worker.shutdown();
  const done = (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").get() as { n: number }).n;
  db.close();
  if (done !== JOBS) throw new Error(`backroom finished ${done} of ${JOBS} jobs`);
  return rates(t1 - t0, t2 - t1);
}

function raw(synchronous: Synchronous): Rates {
  const db = freshDb("raw", synchronous, []);
  const sqlite = db.sqlite;
  sqlite.run(`CREATE TABLE raw_jobs (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    run_at INTEGER NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, completed_at INTEGER)`);
  sqlite.run("CREATE INDEX raw_jobs_claim ON raw_jobs (status, run_at, id)");
  const nextId = monotonicFactory();
  const insert = sqlite.prepare("INSERT INTO raw_jobs (id, type, payload, status, run_at, created_at) VALUES (?, 'noop', ?, 'enqueued', ?, ?)");
  const claim = sqlite.prepare(`UPDATE raw_jobs SET status = 'running', attempts = attempts + 1, started_at = ?1
    WHERE id = (SELECT id FROM raw_jobs WHERE status = 'enqueued' AND run_at <= ?1 ORDER BY run_at, id LIMIT 1) RETURNING id, payload`);
  const complete = sqlite.prepare("UPDATE raw_jobs SET status = 'succeeded', completed_at = ? WHERE id = ?");
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const now = Date.now();
    insert.run(nextId(now), JSON.stringify(payload(i)), now, now);
  }
  const t1 = performance.now();
  for (;;) {
    const row = claim.get(Date.now()) as { id: string; payload: string } | null;
    if (!row) break;
    JSON.parse(row.payload);
    complete.run(Date.now(), row.id);
  }
  const t2 = performance.now();
  db.close();
  return rates(t1 - t0, t2 - t1);
}

const ratio = (a: Rates, b: Rates) => ({
  enqueue: +(a.enqueue / b.enqueue).toFixed(2),
  process: +(a.process / b.process).toFixed(2),
  end_to_end: +(a.end_to_end / b.end_to_end).toFixed(2),
});

mkdirSync(DIR, { recursive: true });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const medianRates = (runs: Rates[]): Rates => ({
  enqueue: median(runs.map((r) => r.enqueue)),
  process: median(runs.map((r) => r.process)),
  end_to_end: median(runs.map((r) => r.end_to_end)),
});

const modes: Record<string, { backroom: Rates; raw: Rates; ratio: ReturnType<typeof ratio> }> = {};
try {
  for (const mode of MODES) {
    const ours: Rates[] = [];
    const base: Rates[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round % 2 === 0) base.push(raw(mode));
      ours.push(await backroom(mode));
      if (round % 2 === 1) base.push(raw(mode));
    }
    const [b, r] = [medianRates(ours), medianRates(base)];
    modes[mode] = { backroom: b, raw: r, ratio: ratio(b, r) };
  }
} finally {
  rmSync(DIR, { recursive: true, force: true });
}
console.log(JSON.stringify({
  bench: "queue",
  jobs: JOBS,
  rounds: ROUNDS,
  concurrency: CONCURRENCY,
  unit: "jobs/s",
  modes,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  bun: Bun.version,
}));
