// Sandboxed handlers against the API's latency, with wrk as the load generator, each server in
// its own process (bench/sandbox-server.ts: the real runtime, startServer):
//
//   npm run bench:sandbox                          (3 interleaved rounds, 3 s of load per case)
//   bun bench/sandbox.ts --rounds 3 --duration 3 --connections 16
//
// 1. GET /api/job_statuses/:id with no jobs running, then while 200 CPU-bound jobs (20 ms of
//    busy work each) run — on the request thread (inline) and in the pool (sandboxed, 1 thread).
//    Bar: sandboxed, p99 stays within 2× the idle p99. Each loaded run also reports how many of
//    the 200 jobs were done when the load ended (fewer than 200: they ran all along).
// 2. POST /api/orders at synchronous=FULL (wrk -t2 -c64) with the receipt handler running
//    inline vs sandboxed (its twin in bench/receipt-sandboxed.ts): orders/s, p99, receipts sent.
// Prints ONE JSON line: medians of the rounds and their spread [min, max].
import { join } from "node:path";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const ROUNDS = option("--rounds", 3);
const DURATION = option("--duration", 3);
const CONNECTIONS = option("--connections", 16);
const ADMIN = "authorization: Bearer dev-admin-token";

interface Info {
  url: string;
  book_id: string;
  job_id: string;
}
interface Load {
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

async function withServer<T>(mode: string, use: (info: Info) => Promise<T>): Promise<T> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "sandbox-server.ts"), mode], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`server ${mode} exited before it was ready`);
      text += new TextDecoder().decode(value);
    }
    return await use(JSON.parse(text.split("\n")[0]!));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function wrk(url: string, options: { threads: number; connections: number; headers: string[]; script?: string }): Promise<Load> {
  const cmd = ["wrk", `-t${options.threads}`, `-c${options.connections}`, `-d${DURATION}s`, "--latency", ...options.headers.flatMap((h) => ["-H", h])];
  if (options.script) cmd.push("-s", options.script);
  const run = Bun.spawn([...cmd, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(run.stdout).text();
  if ((await run.exited) !== 0) throw new Error(`wrk failed: ${await new Response(run.stderr).text()}`);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`no ${label} latency in wrk output:\n${out}`);
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} failed answers:\n${out}`);
  return { rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1])), p50_ms: ms("50%"), p99_ms: ms("99%") };
}

async function count(info: Info, type: string, status: string): Promise<number> {
  const answer = await fetch(`${info.url}/api/job_statuses?type=${type}&status=${status}&limit=1`, { headers: { authorization: "Bearer dev-admin-token" } });
  return ((await answer.json()) as { meta: { total: number } }).meta.total;
}

async function statusCase(mode: "busy-inline" | "busy-sandbox") {
  return withServer(mode, async (info) => {
    const url = `${info.url}/api/job_statuses/${info.job_id}`;
    const load = { threads: 1, connections: CONNECTIONS, headers: [ADMIN] };
    while ((await count(info, "busy", "succeeded")) < 1) await Bun.sleep(20);
    const idle = await wrk(url, load);
    const queued = await fetch(`${info.url}/api/bench/busy`, { method: "POST", headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" }, body: JSON.stringify({ count: 200, ms: 20 }) });
    if (queued.status !== 202) throw new Error(`queueing the busy jobs answered ${queued.status}`);
    const busy = await wrk(url, load);
    const doneAtEnd = (await count(info, "busy", "succeeded")) - 1;
    const deadline = Date.now() + 60_000;
    while ((await count(info, "busy", "succeeded")) < 201 && Date.now() < deadline) await Bun.sleep(50);
    return { idle, busy, jobs_done_when_load_ended: doneAtEnd };
  });
}

async function ordersCase(mode: "receipt-inline" | "receipt-sandbox") {
  return withServer(mode, async (info) => {
    const script = join(import.meta.dir, `.orders-${process.pid}.lua`);
    await Bun.write(script, `wrk.method = "POST"\nwrk.body = '{"lines":[{"book_id":"${info.book_id}","quantity":1}]}'\nwrk.headers["content-type"] = "application/json"\nwrk.headers["authorization"] = "Bearer dev-ana-token"\n`);
    try {
      const orders = await wrk(`${info.url}/api/orders`, { threads: 2, connections: 64, headers: [], script });
      const receipts = await count(info, "send_receipt", "succeeded");
      return { orders, receipts_sent_during_load: receipts };
    } finally {
      await Bun.file(script).delete();
    }
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (xs: number[]) => ({ median: median(xs), spread: [Math.min(...xs), Math.max(...xs)] });

const status: Record<string, Awaited<ReturnType<typeof statusCase>>[]> = { "busy-inline": [], "busy-sandbox": [] };
const orders: Record<string, Awaited<ReturnType<typeof ordersCase>>[]> = { "receipt-inline": [], "receipt-sandbox": [] };
for (let round = 0; round < ROUNDS; round++) {
  // Interleaved, and the order flipped each round, so drift on a shared machine hits both alike.
  const flip = round % 2 === 1;
  const busyModes: ("busy-inline" | "busy-sandbox")[] = ["busy-inline", "busy-sandbox"];
  const receiptModes: ("receipt-inline" | "receipt-sandbox")[] = ["receipt-inline", "receipt-sandbox"];
  for (const mode of flip ? busyModes.reverse() : busyModes) status[mode]!.push(await statusCase(mode));
  for (const mode of flip ? receiptModes.reverse() : receiptModes) orders[mode]!.push(await ordersCase(mode));
}

const statusFigures = Object.fromEntries(
  Object.entries(status).map(([mode, runs]) => [
    mode,
    {
      idle_p99_ms: summary(runs.map((r) => r.idle.p99_ms)),
      busy_p99_ms: summary(runs.map((r) => r.busy.p99_ms)),
      idle_rps: summary(runs.map((r) => r.idle.rps)),
      busy_rps: summary(runs.map((r) => r.busy.rps)),
      p99_ratio_busy_to_idle: summary(runs.map((r) => Math.round((r.busy.p99_ms / r.idle.p99_ms) * 100) / 100)),
      jobs_done_when_load_ended: runs.map((r) => r.jobs_done_when_load_ended),
    },
  ]),
);
const orderFigures = Object.fromEntries(
  Object.entries(orders).map(([mode, runs]) => [
    mode,
    { orders_per_s: summary(runs.map((r) => r.orders.rps)), p99_ms: summary(runs.map((r) => r.orders.p99_ms)), receipts_sent_during_load: summary(runs.map((r) => r.receipts_sent_during_load)) },
  ]),
);
const ratio = (statusFigures["busy-sandbox"] as { p99_ratio_busy_to_idle: { median: number } }).p99_ratio_busy_to_idle.median;
console.log(
  JSON.stringify({
    bench: "sandbox",
    rounds: ROUNDS,
    duration_s: DURATION,
    status_load: `wrk -t1 -c${CONNECTIONS}`,
    orders_load: "wrk -t2 -c64, synchronous=FULL",
    job_statuses: statusFigures,
    orders: orderFigures,
    bars: { sandboxed_busy_p99_within_2x_idle: ratio <= 2 },
  }),
);
