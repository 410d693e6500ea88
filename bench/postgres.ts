// The queue workload on PostgreSQL with 1, 2 and 4 worker processes, beside pgbench's
// simple-update rate on the same server in the same run (the baseline), with how busy the whole
// machine was (all cores) while the jobs ran.
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:postgres   [--jobs 20000]
// Prints one JSON line.
import { SQL } from "bun";
import { readFileSync } from "node:fs";
import { PostgresQueue } from "../src/jobs/postgres.ts";
import { perSecond } from "./lib/files.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)");
  process.exit(2);
}
const args = process.argv.slice(2);
const JOBS = args.includes("--jobs") ? Number(args[args.indexOf("--jobs") + 1]) : 20_000;
const db = new URL(url);
const pgArgs = ["-h", db.hostname, "-p", db.port || "5432", "-U", db.username || "postgres", db.pathname.slice(1)];

// Baseline: pgbench simple-update (one UPDATE + INSERT per transaction), 4 clients, 10 s.
Bun.spawnSync(["pgbench", "-i", "-q", "-s", "1", ...pgArgs], { stdout: "pipe", stderr: "pipe" });
const pgbench = Bun.spawnSync(["pgbench", "-n", "-b", "simple-update", "-c", "4", "-j", "2", "-T", "10", ...pgArgs], { stdout: "pipe", stderr: "pipe" });
const tps = Number(/tps = ([\d.]+)/.exec(pgbench.stdout.toString())?.[1] ?? NaN);

/** The whole machine's CPU time so far (all cores, in clock ticks): total and idle, from /proc/stat. */
function cpuTicks(): { total: number; idle: number } | null {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number) as number[];
    return { total: fields.reduce((a, b) => a + b, 0), idle: fields[3]! + (fields[4] ?? 0) };
  } catch {
    return null; // not Linux: the figure is left out
  }
}
const busyBetween = (a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>) =>
  a && b && b.total > a.total ? +(1 - (b.idle - a.idle) / (b.total - a.total)).toFixed(2) : null;

const sql = new SQL(url, { max: 4 });
const results: Record<string, { enqueue_jobs_per_s: number; process_jobs_per_s: number; machine_cpu_busy: number | null }> = {};
for (const processes of [1, 2, 4]) {
  const table = `bench_jobs_${processes}`;
  await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
  const queue = new PostgresQueue({ sql, table });
  await queue.migrate();
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) await queue.enqueue({ type: "noop", payload: { i } });
  const t1 = performance.now();
  const workers = Array.from({ length: processes }, () => Bun.spawn([process.execPath, `${import.meta.dir}/postgres-worker.ts`, url, table], { stdout: "pipe", stderr: "inherit" }));
  const started = performance.now();
  const cpuBefore = cpuTicks();
  for (;;) {
    // Jobs not yet succeeded, from the _states index: the poll itself stays cheap.
    const [row] = (await sql.unsafe(`SELECT count(*)::int AS n FROM ${table} WHERE status <> 'succeeded'`)) as { n: number }[];
    if (row!.n === 0) break;
    await Bun.sleep(20);
  }
  const t2 = performance.now();
  const cpuAfter = cpuTicks();
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
  await sql.unsafe(`DROP TABLE ${table}`);
  results[`${processes}_process${processes > 1 ? "es" : ""}`] = { enqueue_jobs_per_s: perSecond(JOBS, t1 - t0), process_jobs_per_s: perSecond(JOBS, t2 - started), machine_cpu_busy: busyBetween(cpuBefore, cpuAfter) };
}
await sql.close();
const one = results["1_process"]!.process_jobs_per_s;
console.log(JSON.stringify({
  bench: "postgres",
  jobs: JOBS,
  // Worker processes and PostgreSQL share this machine: more processes cannot scale once it is busy.
  cores: navigator.hardwareConcurrency,
  pgbench_simple_update_tps: tps,
  workers: results,
  scaling_vs_1: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, +(v.process_jobs_per_s / one).toFixed(2)])),
  process_vs_pgbench_tps: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, +(v.process_jobs_per_s / tps).toFixed(2)])),
}));
