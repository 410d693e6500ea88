// What bench/http.ts and bench/binary.ts share: compiling the app's binary from any checkout
// (this one, or the session's first commit for "before" figures) and the bare baseline,
// starting a binary and timing it to its first 200, and wrk as the load generator.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "../..");

/** The app's binary, built by that checkout's own scripts/compile.ts (so "before" is what it shipped). */
export function compileApp(checkout: string, outfile: string): string {
  const build = Bun.spawnSync([process.execPath, "scripts/compile.ts", "--outfile", outfile], { cwd: checkout, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`compile of ${checkout} failed: ${build.stderr}`);
  return outfile;
}

/**
 * The bare Elysia (+ bun:sqlite) baseline, built as scripts/compile.ts builds the app: the same
 * flags, the same reluctant JIT at start, and its bytecode laid out by a recorded start of its own.
 */
export async function compileBare(outfile: string, entry = "bench/lib/bare-server.ts", argv: (port: number) => string[] = (port) => [String(port)]): Promise<string> {
  const build = (extra: string[]) => {
    const run = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm", "--compile-jit-policy=16", join(ROOT, entry), ...extra, "--outfile", outfile], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`bare compile failed: ${run.stderr}`);
  };
  build([]);
  const order = `${outfile}.order`;
  const recorded = await start((port) => [outfile, ...argv(port)], "/readyz", undefined, { BUN_BYTECODE_ORDER_OUT: order });
  await recorded.stop();
  build(["--bytecode-order", order]);
  return outfile;
}

export const freePort = () => 20_000 + Math.floor(Math.random() * 30_000);

export interface Started {
  proc: ReturnType<typeof Bun.spawn>;
  url: string;
  /** From exec to the first 200 on `probe`. */
  readyMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `argvFor(port)` on a free port and polls `probe` until it answers 200; another
 * program taking the port first (the machine is shared) is retried on another one.
 */
export async function start(argvFor: (port: number) => string[], probe: string, cwd?: string, env?: Record<string, string>): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(argvFor, freePort(), probe, cwd, env);
    } catch (error) {
      if (attempt === 3 || !/EADDRINUSE|already in use/.test(String(error))) throw error;
    }
  }
}

async function startOn(argvFor: (port: number) => string[], port: number, probe: string, cwd?: string, env?: Record<string, string>): Promise<Started> {
  const url = `http://127.0.0.1:${port}`;
  const argv = argvFor(port);
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { cwd, env: env ? { ...process.env, ...env } : undefined, stdout: "ignore", stderr: "pipe" });
  const stop = async () => {
    proc.kill("SIGTERM");
    if ((await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "late")])) === "late") proc.kill("SIGKILL");
    await proc.exited;
  };
  for (;;) {
    const ok = await fetch(`${url}${probe}`).then((r) => r.status === 200, () => false);
    if (ok) return { proc, url, readyMs: performance.now() - t0, stop };
    if (proc.exitCode !== null || performance.now() - t0 > 20_000) {
      await stop();
      throw new Error(`${argv.join(" ")} did not become ready: ${(await new Response(proc.stderr as ReadableStream).text()).slice(-600)}`);
    }
    await Bun.sleep(2);
  }
}

export const rssMb = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024);

export interface Figures {
  requests_per_s: number;
  requests: number;
  /** CPU time of the server process (all its threads) per request answered, when measured. */
  server_cpu_us_per_request?: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
}

export interface LoadOptions {
  seconds: number;
  connections?: number;
  headers?: Record<string, string>;
  method?: string;
  body?: string;
}

const scripts = mkdtempSync(join(tmpdir(), "backroom-wrk-"));
let scriptCount = 0;

/** wrk -t2 -c64 (by default) against `url`; a POST goes through a small Lua script. */
export async function wrk(url: string, options: LoadOptions): Promise<Figures> {
  const argv = ["wrk", "-t2", `-c${options.connections ?? 64}`, `-d${options.seconds}s`, "--latency"];
  for (const [name, value] of Object.entries(options.headers ?? {})) argv.push("-H", `${name}: ${value}`);
  if (options.method && options.method !== "GET") {
    const script = join(scripts, `request-${scriptCount++}.lua`);
    writeFileSync(script, `wrk.method = ${JSON.stringify(options.method)}\nwrk.body = ${JSON.stringify(options.body ?? "")}\n`);
    argv.push("-s", script);
  }
  argv.push(url);
  const run = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(run.stdout).text();
  if ((await run.exited) !== 0) throw new Error(`wrk failed: ${await new Response(run.stderr).text()}`);
  return parseWrk(out);
}

function parseWrk(out: string): Figures {
  const ms = (text: string) => {
    const m = /([\d.]+)(us|ms|s|m)\b/.exec(text);
    if (!m) throw new Error(`unreadable wrk latency "${text}"`);
    return +(Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[m[2]!]!).toFixed(2);
  };
  const line = (re: RegExp) => re.exec(out)?.[1];
  const rps = line(/Requests\/sec:\s+([\d.]+)/);
  if (!rps) throw new Error(`unreadable wrk output:\n${out}`);
  const errorCounts = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests_per_s: Math.round(Number(rps)),
    requests: Number(line(/(\d+) requests in/) ?? 0),
    p50_ms: ms(line(/\s50%\s+(\S+)/) ?? ""),
    p99_ms: ms(line(/\s99%\s+(\S+)/) ?? ""),
    non_2xx: Number(line(/Non-2xx or 3xx responses: (\d+)/) ?? 0),
    errors: errorCounts ? errorCounts.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
  };
}

/** User + system CPU time of a process (all its threads) in µs: /proc's clock ticks, 100 a second. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** wrk's figures with the server's CPU time per request over the same run. */
export async function wrkWithCpu(pid: number, url: string, options: LoadOptions): Promise<Figures> {
  const before = cpuMicros(pid);
  const figures = await wrk(url, options);
  const used = cpuMicros(pid) - before;
  return { ...figures, server_cpu_us_per_request: figures.requests > 0 ? +(used / figures.requests).toFixed(2) : undefined };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Median and spread of a case's rounds. */
export function summarize(runs: Figures[]) {
  const rates = runs.map((r) => r.requests_per_s);
  return {
    requests_per_s: median(rates),
    spread: [Math.min(...rates), Math.max(...rates)],
    ...(runs.every((r) => r.server_cpu_us_per_request !== undefined) ? { server_cpu_us_per_request: median(runs.map((r) => r.server_cpu_us_per_request!)), server_cpu_spread: [Math.min(...runs.map((r) => r.server_cpu_us_per_request!)), Math.max(...runs.map((r) => r.server_cpu_us_per_request!))] } : {}),
    p50_ms: median(runs.map((r) => r.p50_ms)),
    p99_ms: median(runs.map((r) => r.p99_ms)),
    non_2xx: runs.reduce((n, r) => n + r.non_2xx, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
  };
}
