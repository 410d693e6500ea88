// What the durable event outbox costs an order: `POST /api/orders` on `backroom serve` at
// FULL durability (the default --sync full) with a network bus (NATS), on this checkout
// (events written to the outbox in the order's transaction, relayed to NATS) against another
// checkout (by default the session's first commit, where events went straight to NATS after
// the commit and waited in memory when it was away). Both servers are real `serve` processes
// with the worker running; autocannon is the load generator (its own Node process).
//
//   git worktree add /tmp/before 4b8cada && ln -s "$PWD/node_modules" /tmp/before/node_modules
//   NATS_URL=nats://127.0.0.1:4222 bun bench/outbox.ts --before /tmp/before [--duration 5] [--rounds 3]
//
// A third side, "off", is this checkout with the outbox taken out (bench/lib/without-outbox.ts:
// the network bus used directly, events published after commit as before): after/off is the
// outbox's own cost, off/before what everything else since that commit changed.
//
// Rounds alternate (before, off, after, before, off, after…) and the medians are compared,
// because the machine is shared and noisy. Prints ONE JSON line: requests/s, p50/p99 (ms) and
// the server's CPU time per order per side and case, the ratios after/before and after/off,
// and whether the outbox's own cost (after/off) stays under 10% on both.
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const DURATION = Number(option("--duration", "5"));
const ROUNDS = Number(option("--rounds", "3"));
const BEFORE = resolve(option("--before", "/tmp/before"));
const AFTER = resolve(import.meta.dir, "..");
const NATS = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const AUTOCANNON = join(dirname(createRequire(import.meta.url).resolve("autocannon/package.json")), "autocannon.js");
const CASES = [
  { name: "orders_c64", connections: 64 },
  { name: "orders_c4", connections: 4 },
];

interface Figures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  /** The server process's CPU time (user + system) per order answered: steadier than requests/s on a busy machine. */
  cpu_us_per_order: number;
  /** Bytes the server sent toward the disk per order (/proc/<pid>/io write_bytes: pages dirtied,
   * WAL and checkpoints): the outbox's cost is pages, and this counts them through the noise. */
  disk_kb_per_order: number;
}

/** A process's CPU time so far, in µs (Linux: /proc/<pid>/stat utime + stime, in clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = require("node:fs").readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** `serve` from a checkout on a fresh file, a well-stocked book made by the admin; stopped after `use`. */
async function withServer<T>(checkout: string, preload: string[], use: (url: string, bookId: string, pid: number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "backroom-bench-outbox-"));
  const proc = Bun.spawn([process.execPath, ...preload, join(checkout, "src/main.ts"), "serve", "--port", "0", "--db", join(dir, "shop.db"), "--dev", "--bus", NATS, "--sync", "full", "--log-level", "error"], { cwd: checkout, stdout: "pipe", stderr: "inherit" });
  try {
    const reader = proc.stdout.getReader();
    let text = "";
    while (!/Backroom listening on \S+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve from ${checkout} ended before listening:\n${text}`);
      text += new TextDecoder().decode(value);
    }
    void (async () => { while (!(await reader.read()).done); })(); // keep its stdout drained
    const url = /Backroom listening on (http:\/\/\S+)/.exec(text)![1]!;
    const created = await fetch(`${url}/api/books`, { method: "POST", headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" }, body: JSON.stringify({ title: "Bench", author: "B", price_cents: 100, stock: 1_000_000_000 }) });
    if (created.status !== 201) throw new Error(`could not create the bench's book: ${created.status} ${await created.text()}`);
    return await use(url, ((await created.json()) as { data: { id: string } }).data.id, proc.pid);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes a process caused to be written to storage so far (Linux: /proc/<pid>/io write_bytes). */
function diskBytes(pid: number): number {
  return Number(/write_bytes: (\d+)/.exec(require("node:fs").readFileSync(`/proc/${pid}/io`, "utf8"))![1]);
}

async function orders(url: string, bookId: string, connections: number, pid: number): Promise<Figures> {
  const cpuBefore = cpuMicros(pid);
  const diskBefore = diskBytes(pid);
  const run = Bun.spawn(["node", AUTOCANNON, "--json", "-d", String(DURATION), "-c", String(connections), "-m", "POST",
    "-H", "authorization=Bearer dev-ana-token", "-H", "content-type=application/json",
    "-b", JSON.stringify({ lines: [{ book_id: bookId, quantity: 1 }] }), `${url}/api/orders`], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(run.stdout).text();
  if ((await run.exited) !== 0) throw new Error(`autocannon failed: ${await new Response(run.stderr).text()}`);
  const r = JSON.parse(out);
  const cpu = cpuMicros(pid) - cpuBefore;
  const disk = diskBytes(pid) - diskBefore;
  const total = Math.max(1, r.requests.total);
  return { requests_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non_2xx: r.non2xx, cpu_us_per_order: Math.round(cpu / total), disk_kb_per_order: Math.round(disk / total / 102.4) / 10 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const SIDES = [
  { side: "before", checkout: BEFORE, preload: [] },
  { side: "off", checkout: AFTER, preload: ["--preload", join(import.meta.dir, "lib/without-outbox.ts")] },
  { side: "after", checkout: AFTER, preload: [] },
] as const;
const runs: Record<(typeof SIDES)[number]["side"], Record<string, Figures[]>> = { before: {}, off: {}, after: {} };
for (let round = 0; round < ROUNDS; round++) {
  for (const { side, checkout, preload } of SIDES) {
    await withServer(checkout, [...preload], async (url, bookId, pid) => {
      for (const c of CASES) (runs[side][c.name] ??= []).push(await orders(url, bookId, c.connections, pid));
    });
  }
}
const summary = (figures: Figures[]) => ({
  requests_per_s: median(figures.map((f) => f.requests_per_s)),
  p50_ms: median(figures.map((f) => f.p50_ms)),
  p99_ms: median(figures.map((f) => f.p99_ms)),
  non_2xx: figures.reduce((n, f) => n + f.non_2xx, 0),
  cpu_us_per_order: median(figures.map((f) => f.cpu_us_per_order)),
  disk_kb_per_order: median(figures.map((f) => f.disk_kb_per_order)),
});
const result: Record<string, unknown> = { duration_s: DURATION, rounds: ROUNDS, bus: NATS, sync: "full", before: BEFORE };
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
for (const c of CASES) {
  const [before, off, after] = [summary(runs.before[c.name]!), summary(runs.off[c.name]!), summary(runs.after[c.name]!)];
  const rounds = runs.after[c.name]!.map((a, i) => ({
    after_over_before: ratio(a.requests_per_s, runs.before[c.name]![i]!.requests_per_s),
    after_over_off: ratio(a.requests_per_s, runs.off[c.name]![i]!.requests_per_s),
  }));
  const ownRatio = ratio(after.requests_per_s, off.requests_per_s);
  const ownCpuRatio = ratio(after.cpu_us_per_order, off.cpu_us_per_order);
  result[c.name] = {
    before, off, after, rounds,
    ratio_after_over_before: ratio(after.requests_per_s, before.requests_per_s),
    cpu_per_order_after_over_before: ratio(after.cpu_us_per_order, before.cpu_us_per_order),
    ratio_after_over_off: ownRatio,
    cpu_per_order_after_over_off: ownCpuRatio,
    disk_per_order_after_over_before: ratio(after.disk_kb_per_order, before.disk_kb_per_order),
    disk_per_order_after_over_off: ratio(after.disk_kb_per_order, off.disk_kb_per_order),
    outbox_cost_under_10_percent: ownRatio >= 0.9 && ownCpuRatio <= 1.1,
  };
}
console.log(JSON.stringify(result));
