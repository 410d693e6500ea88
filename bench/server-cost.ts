// Instructions per request of the server process itself, under callgrind: the compiled app's
// GET /api/job_statuses/:id and GET /api/books?limit=20 against the compiled bare baseline's
// same reads (bench/lib/bare-server.ts). Deterministic where bench/http.ts's rates are not on
// this shared 2-core machine, and it counts what an in-process measure (bench/read-cost.ts)
// misses: Bun.serve's request and response objects, headers, the app's other work.
//   bun bench/server-cost.ts [checkout] [--only REGEX] [--warm 4] [--seconds 8]
// Each server runs under valgrind with instrumentation off, is warmed with wrk (runs of --warm s
// until its rate stops climbing), then counted
// (callgrind_control -i on/off) over a wrk run; its total is divided by the requests wrk saw
// answered (a few in flight at either toggle: well under 1%).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileApp, compileBare, freePort, ROOT, wrk } from "./lib/http-load.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const checkout = args[0] && !args[0].startsWith("--") ? args[0] : ROOT;
const WARM = Number(option("--warm") ?? 4);
const SECONDS = Number(option("--seconds") ?? 8);
const only = option("--only");

const dir = mkdtempSync(join(tmpdir(), "backroom-server-cost-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const app = compileApp(checkout, join(dir, "app"));
const bare = await compileBare(join(dir, "bare"));
const ANA = { authorization: "Bearer dev-ana-token" };
const ADMIN = { authorization: "Bearer dev-admin-token" };
const json = { "content-type": "application/json" };

interface Server { url: string; pid: number; stop(): Promise<void> }
/** `argv` on a free port, under valgrind when `counted`, once /readyz answers (valgrind starts slowly). */
async function serve(argvFor: (port: number) => string[], cwd: string, counted: boolean): Promise<Server> {
  const port = freePort();
  const argv = argvFor(port);
  const env = { ...process.env, BUN_JSC_useConcurrentJIT: "0", BUN_JSC_useConcurrentGC: "0" };
  const proc = Bun.spawn(counted ? ["valgrind", "--tool=callgrind", "--instr-atstart=no", `--callgrind-out-file=${dir}/callgrind.%p`, ...argv] : argv, { cwd, env, stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    if ((await Promise.race([proc.exited, Bun.sleep(60_000).then(() => "late")])) === "late") proc.kill("SIGKILL");
    await proc.exited;
  };
  const t0 = performance.now();
  while (!(await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false))) {
    if (proc.exitCode !== null || performance.now() - t0 > 300_000) {
      await stop();
      throw new Error(`${argv.join(" ")} did not become ready`);
    }
    await Bun.sleep(100);
  }
  return { url, pid: proc.pid, stop };
}

const appArgv = (port: number) => [app, "serve", "--port", String(port), "--dev", "--log-level", "error", "--sync", "normal"];

// The database: seeded, a sixth book, one order of ana's whose receipt job has finished.
const reads = join(dir, "reads");
let jobId = "";
{
  mkdirSync(reads);
  const server = await serve(appArgv, reads, false);
  try {
    const book = (await (await fetch(`${server.url}/api/books`, { method: "POST", headers: { ...ADMIN, ...json }, body: JSON.stringify({ title: "Bench", author: "B", price_cents: 100, stock: 1_000 }) })).json()) as { data: { id: string } };
    const placed = (await (await fetch(`${server.url}/api/orders`, { method: "POST", headers: { ...ANA, ...json }, body: JSON.stringify({ lines: [{ book_id: book.data.id, quantity: 1 }] }) })).json()) as { data: { job_id: string } };
    jobId = placed.data.job_id;
    for (let i = 0; ; i++) {
      const status = ((await (await fetch(`${server.url}/api/job_statuses/${jobId}`, { headers: ANA })).json()) as { data: { status: string } }).data.status;
      if (status === "succeeded") break;
      if (i > 1000) throw new Error(`the receipt job is still ${status}`);
      await Bun.sleep(10);
    }
  } finally {
    await server.stop();
  }
}
const bareDb = join(dir, "bare.db");
cpSync(join(reads, "backroom.db"), bareDb);

const cases: Record<string, { argv: (port: number) => string[]; path: string; headers: Record<string, string> }> = {
  job_status: { argv: appArgv, path: `/api/job_statuses/${jobId}`, headers: ANA },
  bare_point_read: { argv: (port) => [bare, String(port), bareDb], path: `/job/${jobId}`, headers: {} },
  books_list: { argv: appArgv, path: "/api/books?limit=20", headers: {} },
  bare_books_list: { argv: (port) => [bare, String(port), bareDb], path: "/books?limit=20", headers: {} },
};
const control = (pid: number, on: boolean) => {
  const run = Bun.spawnSync(["callgrind_control", "-i", on ? "on" : "off", String(pid)], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`callgrind_control failed: ${run.stderr}`);
};
const results: Record<string, { requests: number; instructions_per_request: number }> = {};
for (const [name, c] of Object.entries(cases)) {
  if (only && !new RegExp(only).test(name)) continue;
  const server = await serve(c.argv, reads, true);
  let requests = 0;
  try {
    const load = { connections: 8, headers: c.headers };
    // Warm until the rate stops climbing (the JIT has tiered up; slow under valgrind, at most 2 min).
    for (let last = 0, i = 0; i < 30; i++) {
      const rate = (await wrk(`${server.url}${c.path}`, { seconds: WARM, ...load })).requests_per_s;
      if (i >= 2 && rate < last * 1.1) break;
      last = rate;
    }
    control(server.pid, true);
    const figures = await wrk(`${server.url}${c.path}`, { seconds: SECONDS, ...load });
    control(server.pid, false);
    if (figures.non_2xx || figures.errors) throw new Error(`${name}: ${figures.non_2xx} non-2xx, ${figures.errors} errors`);
    requests = figures.requests;
  } finally {
    await server.stop();
  }
  const out = readdirSync(dir).find((f) => f === `callgrind.${server.pid}`);
  const totals = Number(/^totals: (\d+)/m.exec(readFileSync(join(dir, out!), "utf8"))?.[1]);
  results[name] = { requests, instructions_per_request: Math.round(totals / requests) };
}
const ratio = (a: string, b: string) => (results[a] && results[b] ? +(results[a]!.instructions_per_request / results[b]!.instructions_per_request).toFixed(3) : null);
console.log(JSON.stringify({ bench: "server-cost", checkout, warm_s: WARM, counted_s: SECONDS, cases: results, cost_ratios: { job_status_vs_bare_point_read: ratio("job_status", "bare_point_read"), books_list_vs_bare_books_list: ratio("books_list", "bare_books_list") } }));
