// Every engine adapter side by side, in one run (issue 11):
//   1. buses — in-process, NATS core and JetStream-durable, RabbitMQ and durable queues, Redis
//      Streams and consumer groups, Kafka (librdkafka's mock cluster: start one with
//      `.ci/kafka-mock` and set KAFKA_URL to the URL it prints; not Apache Kafka) plain and
//      durable: 10 wildcard subscribers each, N events; publishes/s,
//      deliveries/s (all N × 10 checked off), publish→deliver p50/p99;
//   2. queues — bench/queue.ts's workload on SQLite (FULL, NORMAL), PostgreSQL and Redis:
//      enqueue/s and processed jobs/s, as ratios to SQLite NORMAL measured in the same run.
// An engine whose URL variable is unset is skipped and says so; `npm run bench:adapters`
// fills in this machine's local engines. Every stream, exchange, queue and table is named
// for this run and removed after it.
// Latency is read twice per bus: under the flood (up to --window events in flight, so mostly
// queueing: about window ÷ rate), and idle (--probe events one at a time, each published once
// the last reached all 10 subscribers).
//   npm run bench:adapters       bun bench/adapters.ts [--scale 0.5] [--jobs 10000] [--rounds 3] [--window 1000] [--probe 300] [--only nats,redis]
// Human-readable lines, then one JSON line with every figure.
import { SQL } from "bun";
import { jobsMigrations, SqliteQueue } from "../src/jobs/sqlite.ts";
import { PostgresQueue } from "../src/jobs/postgres.ts";
import { RedisQueue } from "../src/jobs/redis.ts";
import { BUS_ENGINES, cleanRedisPrefix, type BusEngine } from "./lib/adapter-engines.ts";
import { countingLogger, PATTERNS, subscribeAll, type BusRun } from "./lib/bus-load.ts";
import { freshDb, median } from "./lib/files.ts";
import { CONCURRENCY, queueLoad, type QueueRates } from "./lib/queue-load.ts";

const args = process.argv.slice(2);
const flag = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const SCALE = Number(flag("--scale") ?? 1);
const JOBS = Number(flag("--jobs") ?? 10_000);
const ROUNDS = Number(flag("--rounds") ?? 3);
const WINDOW = Number(flag("--window") ?? 1_000);
const STALL_MS = 5_000;
const PROBE = Number(flag("--probe") ?? 300);
const only = flag("--only")?.split(",");
const wanted = (name: string) => !only || only.some((o) => name.startsWith(o));
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");
const pad = (s: string, n: number) => s.padStart(n);
const ratio = (a: number, b: number) => (Number.isFinite(a) && b > 0 ? +(a / b).toFixed(3) : null);
const figures: Record<string, unknown> = { bench: "adapters", subscribers: PATTERNS.length, window_events: WINDOW, idle_probe_events: PROBE, jobs: JOBS, concurrency: CONCURRENCY, rounds: ROUNDS };

// ── 1. Buses ────────────────────────────────────────────────────────────────────────────────
console.log(`buses: ${PATTERNS.length} subscribers on wildcard patterns that all match (${PATTERNS.join(" ")}), at most ${fmt(WINDOW)} events in flight`);
const buses: Record<string, unknown> = {};
let inProcessRate = NaN;
for (const engine of BUS_ENGINES.filter((e) => wanted(e.name))) {
  const url = engine.variable ? process.env[engine.variable] : "";
  if (url === undefined) {
    console.log(`  ${engine.name.padEnd(22)} skipped (set ${engine.variable})`);
    buses[engine.name] = { skipped: `set ${engine.variable}` };
    continue;
  }
  const events = Math.max(1_000, Math.round(engine.events * SCALE));
  try {
    const { result, idle, warnings } = await measureBus(engine, url, events);
    if (engine.name === "in_process") inProcessRate = result.deliveriesPerS;
    const [missing, expected] = [result.missing + idle.missing, result.expected + idle.expected];
    const [duplicates, publishErrors] = [result.duplicates + idle.duplicates, result.publishErrors + idle.publishErrors];
    const ok = missing === 0 && duplicates === 0 && publishErrors === 0;
    const verdict = ok
      ? `all ${fmt(expected)} delivered`
      : `FAILED: ${fmt(missing)} of ${fmt(expected)} missing, ${fmt(duplicates)} duplicates, ${fmt(publishErrors)} publish errors`;
    console.log(
      `  ${engine.name.padEnd(22)} ${pad(fmt(events), 7)} events in ${pad(result.seconds.toFixed(1), 5)} s  publish ${pad(fmt(result.publishPerS), 9)}/s  deliver ${pad(fmt(result.deliveriesPerS), 10)}/s  ` +
        `p50/p99 ${pad(result.p50Ms.toFixed(1), 6)}/${pad(result.p99Ms.toFixed(1), 6)} ms  idle ${idle.p50Ms.toFixed(3)}/${idle.p99Ms.toFixed(3)} ms  ${verdict}${Object.keys(warnings).length ? `  warnings: ${JSON.stringify(warnings)}` : ""}`,
    );
    buses[engine.name] = {
      events, expected_deliveries: result.expected, delivered: result.delivered, missing: result.missing, duplicates: result.duplicates, publish_errors: result.publishErrors, ok,
      publish_per_s: result.publishPerS, deliveries_per_s: result.deliveriesPerS, p50_ms: result.p50Ms, p99_ms: result.p99Ms, max_ms: result.maxMs, seconds: result.seconds,
      idle: { events: idle.events, missing: idle.missing, duplicates: idle.duplicates, p50_ms: idle.p50Ms, p99_ms: idle.p99Ms, max_ms: idle.maxMs },
      deliveries_vs_in_process: ratio(result.deliveriesPerS, inProcessRate), warnings,
    };
  } catch (error) {
    console.log(`  ${engine.name.padEnd(22)} FAILED: ${(error as Error).message}`);
    buses[engine.name] = { error: (error as Error).message, ok: false };
  }
}
figures.buses = buses;

async function measureBus(engine: BusEngine, url: string, events: number): Promise<{ result: BusRun; idle: BusRun; warnings: Record<string, number> }> {
  const logger = countingLogger();
  const c = await engine.open(url, logger);
  try {
    const load = await subscribeAll(c);
    const warm = await load.run(Math.min(1_000, Math.round(events / 10)), WINDOW, STALL_MS);
    if (warm.missing > 0) throw new Error(`warm-up lost ${warm.missing} of ${warm.expected} deliveries`);
    const result = await load.run(events, WINDOW, STALL_MS);
    const idle = await load.run(PROBE, 1, STALL_MS);
    return { result, idle, warnings: logger.counts };
  } finally {
    await c.close();
  }
}

// ── 2. Queues ───────────────────────────────────────────────────────────────────────────────
interface QueueEngine {
  name: string;
  variable: string | null;
  run(url: string): Promise<QueueRates>;
}

const sqlite = (synchronous: "FULL" | "NORMAL"): QueueEngine => ({
  name: `sqlite_${synchronous.toLowerCase()}`,
  variable: null,
  async run() {
    const db = freshDb(`adapters-${synchronous}`, synchronous, jobsMigrations);
    try {
      return await queueLoad(new SqliteQueue(db), JOBS, () => (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'").get() as { n: number }).n);
    } finally {
      db.close();
    }
  },
});

const postgres: QueueEngine = {
  name: "postgres",
  variable: "DATABASE_URL",
  async run(url) {
    const sql = new SQL(url, { max: 4 });
    const table = `bench_adapters_${process.pid}`;
    try {
      await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
      const queue = new PostgresQueue({ sql, table });
      await queue.migrate();
      return await queueLoad(queue, JOBS, async () => ((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE status = 'succeeded'`)) as { n: number }[])[0]!.n);
    } finally {
      await sql.unsafe(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await sql.close();
    }
  },
};

const redis: QueueEngine = {
  name: "redis",
  variable: "REDIS_URL",
  async run(url) {
    const prefix = `backroom-bench-${process.pid}-${Date.now().toString(36)}`;
    const queue = new RedisQueue({ url, prefix });
    try {
      await queue.migrate();
      // J handled and no job left unfinished, dead or cancelled means J succeeded.
      return await queueLoad(queue, JOBS, async () => {
        const counts = await queue.stateCounts();
        return JOBS - counts.filter((c) => c.status !== "succeeded").reduce((n, c) => n + c.n, 0);
      });
    } finally {
      await queue.close().catch(() => {});
      await cleanRedisPrefix(url, `${prefix}:`);
    }
  },
};

const QUEUES = [sqlite("NORMAL"), sqlite("FULL"), postgres, redis].filter((q) => wanted(q.name));
if (QUEUES.length) console.log(`queues: enqueue ${fmt(JOBS)} jobs one by one, then process them with a no-op handler at concurrency ${CONCURRENCY} through the Worker; median of ${ROUNDS} rounds, alternating order`);
const samples = new Map<string, QueueRates[]>();
const errors = new Map<string, string>();
for (let round = 0; round < ROUNDS; round++) {
  for (const engine of round % 2 === 0 ? QUEUES : [...QUEUES].reverse()) {
    const url = engine.variable ? process.env[engine.variable] : "";
    if (url === undefined || errors.has(engine.name)) continue;
    try {
      samples.set(engine.name, [...(samples.get(engine.name) ?? []), await engine.run(url)]);
    } catch (error) {
      errors.set(engine.name, (error as Error).message);
    }
  }
}
const queues: Record<string, unknown> = {};
const medianOf = (runs: QueueRates[]): QueueRates => ({ enqueue: median(runs.map((r) => r.enqueue)), process: median(runs.map((r) => r.process)) });
const base = samples.has("sqlite_normal") ? medianOf(samples.get("sqlite_normal")!) : null;
for (const engine of QUEUES) {
  const runs = samples.get(engine.name);
  if (engine.variable && process.env[engine.variable] === undefined) {
    console.log(`  ${engine.name.padEnd(14)} skipped (set ${engine.variable})`);
    queues[engine.name] = { skipped: `set ${engine.variable}` };
  } else if (!runs || errors.has(engine.name)) {
    console.log(`  ${engine.name.padEnd(14)} FAILED: ${errors.get(engine.name)}`);
    queues[engine.name] = { error: errors.get(engine.name) };
  } else {
    const m = medianOf(runs);
    const vs = base ? { enqueue: ratio(m.enqueue, base.enqueue), process: ratio(m.process, base.process) } : null;
    const each = runs.map((r) => `${fmt(r.enqueue)}/${fmt(r.process)}`).join(", ");
    console.log(
      `  ${engine.name.padEnd(14)} enqueue ${pad(fmt(m.enqueue), 7)} jobs/s  process ${pad(fmt(m.process), 7)} jobs/s` +
        (vs ? `  vs sqlite_normal: enqueue ${vs.enqueue}x, process ${vs.process}x` : "") + `  (rounds enqueue/process: ${each})`,
    );
    queues[engine.name] = { enqueue_jobs_per_s: m.enqueue, process_jobs_per_s: m.process, rounds: runs, vs_sqlite_normal: vs };
  }
}
figures.queues = queues;
console.log(JSON.stringify(figures));
