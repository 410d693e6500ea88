// The compiled binary: size, time from exec to the first successful /readyz (median of 5
// cold starts on a fresh directory), idle RSS, and peak RSS under the order load (autocannon,
// 64 connections, 10 s), and --version / --help (median of 5). Prints one JSON line; bars:
// --version and --help < 100 ms, ready < 300 ms, idle RSS < 80 MB.
//   npm run bench:binary        bun bench/binary.ts --duration 5
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { median } from "./lib/files.ts";

const args = process.argv.slice(2);
const DURATION = args.includes("--duration") ? Number(args[args.indexOf("--duration") + 1]) : 10;
const dir = mkdtempSync(join(tmpdir(), "backroom-bench-binary-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const binary = join(dir, "backroom");
const build = Bun.spawnSync([process.execPath, "scripts/compile.ts", "--outfile", binary], { stdout: "pipe", stderr: "pipe" });
if (build.exitCode !== 0) throw new Error(`compile failed: ${build.stderr}`);

const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

async function startAndWait(cwd: string): Promise<{ proc: ReturnType<typeof Bun.spawn>; url: string; readyMs: number }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn([binary, "serve", "--port", String(port), "--dev", "--log-level", "error"], { cwd, stdout: "ignore", stderr: "ignore" });
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) return { proc, url, readyMs: performance.now() - t0 };
    if (performance.now() - t0 > 10_000) throw new Error("not ready within 10 s");
    await Bun.sleep(2);
  }
}

// --version and --help load only the entry and its flag table (commands load when they run).
// The floor: a compiled program that only prints a version, built the same way, in this run.
const bare = join(dir, "bare");
writeFileSync(join(dir, "bare.ts"), 'console.log("0.0.0");\n');
if (Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm", join(dir, "bare.ts"), "--outfile", bare], { stdout: "pipe", stderr: "pipe" }).exitCode !== 0) throw new Error("bare compile failed");
const commandMs = (argv: string[], program = binary) => {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const run = Bun.spawnSync([program, ...argv], { stdout: "ignore", stderr: "ignore" });
    times.push(performance.now() - t0);
    if (run.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${run.exitCode}`);
  }
  return Math.round(median(times));
};
const bareMs = commandMs([], bare);
const versionMs = commandMs(["--version"]);
const helpMs = commandMs(["--help"]);

const readyTimes: number[] = [];
for (let i = 0; i < 5; i++) {
  const cwd = mkdtempSync(join(dir, "cold-"));
  const { proc, readyMs } = await startAndWait(cwd);
  readyTimes.push(readyMs);
  proc.kill("SIGTERM");
  await proc.exited;
}

const cwd = mkdtempSync(join(dir, "load-"));
const { proc, url } = await startAndWait(cwd);
await Bun.sleep(1_000);
const idle = rssMb(proc.pid);
const book = ((await (await fetch(`${url}/api/books`, { method: "POST", headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" }, body: JSON.stringify({ title: "B", author: "A", price_cents: 100, stock: 100_000_000 }) })).json()) as { data: { id: string } }).data;
let peak = idle;
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(proc.pid))), 100);
const autocannon = join(dirname(createRequire(import.meta.url).resolve("autocannon/package.json")), "autocannon.js");
const load = Bun.spawn(["node", autocannon, "--json", "-d", String(DURATION), "-c", "64", "-m", "POST", "-H", "authorization=Bearer dev-ana-token", "-H", "content-type=application/json", "-b", JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }), `${url}/api/orders`], { stdout: "pipe", stderr: "pipe" });
const result = JSON.parse(await new Response(load.stdout).text());
clearInterval(sampler);
proc.kill("SIGTERM");
await proc.exited;

const readyMs = Math.round(median(readyTimes));
console.log(JSON.stringify({
  bench: "binary",
  size_mb: +(statSync(binary).size / 1e6).toFixed(1),
  version_ms_median_of_5: versionMs,
  bare_program_ms_median_of_5: bareMs,
  help_ms_median_of_5: helpMs,
  ready_ms_median_of_5: readyMs,
  ready_ms_all: readyTimes.map((t) => Math.round(t)),
  idle_rss_mb: idle,
  load: { connections: 64, duration_s: DURATION, orders_per_s: Math.round(result.requests.average), p99_ms: result.latency.p99, peak_rss_mb: peak },
  bars: { version_under_100ms: versionMs < 100, help_under_100ms: helpMs < 100, ready_under_300ms: readyMs < 300, idle_rss_under_80mb: idle < 80 },
}));
