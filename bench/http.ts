// HTTP throughput and latency over loopback, with autocannon as the load generator (its own
// Node process), against a bare Elysia route returning a constant, in the same run.
//
//   npm run bench:http                      (10 s per case, 100 connections)
//   bun bench/http.ts --duration 5 --connections 50
//
// Cases: the bare route; GET /api/job_statuses/:id (admin token); POST /api/orders (a new
// order, stock taken, receipt job enqueued — synchronous=NORMAL, worker running). Prints ONE
// JSON line with requests/s and p50/p99 latency (ms) per case, the status-read/bare ratio and
// whether the bars hold (status ≥ 0.5× bare; order p99 < 5 ms).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const DURATION = flag("--duration", 10);
const CONNECTIONS = flag("--connections", 100);
const AUTOCANNON = join(dirname(createRequire(import.meta.url).resolve("autocannon/package.json")), "autocannon.js");

interface Figures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
}

async function startServer(mode: "bare" | "store") {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "http-server.ts"), mode], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} server exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  return { proc, info: JSON.parse(text.split("\n")[0]!) as { url: string; book_id?: string; job_id?: string; token?: string } };
}

async function load(url: string, extra: string[] = []): Promise<Figures> {
  const connections = extra.includes("-c") ? [] : ["-c", String(CONNECTIONS)];
  const run = Bun.spawn(["node", AUTOCANNON, "--json", "-d", String(DURATION), ...connections, ...extra, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(run.stdout).text();
  if ((await run.exited) !== 0) throw new Error(`autocannon failed: ${await new Response(run.stderr).text()}`);
  const r = JSON.parse(out);
  return { requests_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non_2xx: r.non2xx, errors: r.errors };
}

const bare = await startServer("bare");
const bareFigures = await load(`${bare.info.url}/const`);
bare.proc.kill("SIGTERM");

const store = await startServer("store");
const auth = ["-H", `authorization=Bearer ${store.info.token}`];
const status = await load(`${store.info.url}/api/job_statuses/${store.info.job_id}`, auth);
const order = await load(`${store.info.url}/api/orders`, [
  ...auth, "-m", "POST", "-H", "content-type=application/json",
  "-b", JSON.stringify({ lines: [{ book_id: store.info.book_id, quantity: 1 }] }),
]);
// The same at 10 connections: latency when the writer is not saturated.
const orderLight = await load(`${store.info.url}/api/orders`, [
  ...auth, "-m", "POST", "-H", "content-type=application/json", "-c", "10",
  "-b", JSON.stringify({ lines: [{ book_id: store.info.book_id, quantity: 1 }] }),
]);
store.proc.kill("SIGTERM");
await store.proc.exited;

const ratio = +(status.requests_per_s / bareFigures.requests_per_s).toFixed(2);
console.log(JSON.stringify({
  bench: "http",
  duration_s: DURATION,
  connections: CONNECTIONS,
  bare_route: bareFigures,
  job_status_read: status,
  place_order: order,
  place_order_10_connections: orderLight,
  status_vs_bare: ratio,
  bars: { status_read_at_least_half_of_bare: ratio >= 0.5, order_p99_under_5ms: order.p99_ms < 5 },
}));
