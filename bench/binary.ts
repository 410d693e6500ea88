// The compiled binary against a compiled bare Elysia program (bench/lib/bare-server.ts, built
// the same way), in the same run: size; time from exec to the first 200 on /readyz on an
// existing database (the till's every start) and on a fresh one, and idle RSS after the start
// — starts interleaved (bare, app, before…), medians with the spread; peak RSS under the order
// load (wrk, 64 connections); --version and --help (median of 5) against a compiled program
// that only prints a version. Prints one JSON line; bars: ready on an existing database
// ≤ 1.3× the bare binary, idle RSS ≤ 55 MB, --version and --help < 100 ms. Also, as a reference
// and not a bar, bare Elysia with as many routes as the app documents on a SQLite file
// (bench/lib/bare-sized-server.ts): what an app of this size pays on the same libraries.
//   npm run bench:binary        bun bench/binary.ts --duration 5 --starts 7
//   bun bench/binary.ts --before /tmp/before      also the binary of another checkout, interleaved
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileApp, compileBare, median, ROOT, rssMb, start, wrk, type Started } from "./lib/http-load.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const DURATION = Number(option("--duration") ?? 10);
const STARTS = Number(option("--starts") ?? 7);
const BEFORE = option("--before");
const dir = mkdtempSync(join(tmpdir(), "backroom-bench-binary-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const binary = compileApp(ROOT, join(dir, "backroom"));
const bare = await compileBare(join(dir, "bare-elysia"));
const apps: Record<string, string> = { app: binary };
if (BEFORE) apps.before = compileApp(BEFORE, join(dir, "before"));

const serve = (program: string, cwd: string) => start((port) => [program, "serve", "--port", String(port), "--dev", "--log-level", "error"], "/readyz", cwd);
const stopped = async (s: Started) => (await s.stop(), s.readyMs);

// --version and --help load only the entry and its flag table (commands load when they run).
// The floor: a compiled program that only prints a version, built the same way, in this run.
const hello = join(dir, "hello");
writeFileSync(join(dir, "hello.ts"), 'console.log("0.0.0");\n');
if (Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", "--format", "esm", join(dir, "hello.ts"), "--outfile", hello], { stdout: "pipe", stderr: "pipe" }).exitCode !== 0) throw new Error("hello compile failed");
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
const helloMs = commandMs([], hello);
const versionMs = commandMs(["--version"]);
const helpMs = commandMs(["--help"]);

// An existing database per app: created by a first start (migrations, seed, the first admin and
// the development users), then started again and again.
const existing: Record<string, string> = {};
for (const [name, program] of Object.entries(apps)) {
  existing[name] = mkdtempSync(join(dir, `existing-${name}-`));
  await stopped(await serve(program, existing[name]!));
}

// The reference (not the bar): bare Elysia with as many routes as the app documents, on a
// SQLite file (bench/lib/bare-sized-server.ts).
const routeCount = await (async () => {
  const s = await serve(binary, existing.app!);
  const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  await s.stop();
  return Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
})();
const sizedDb = join(dir, "bare-sized.db");
const sizedArgv = (port: number) => [String(port), String(routeCount), sizedDb];
const bareSized = await compileBare(join(dir, "bare-sized"), "bench/lib/bare-sized-server.ts", sizedArgv);

const ready: Record<string, number[]> = { bare: [], bare_sized: [], ...Object.fromEntries(Object.keys(apps).flatMap((n) => [[n, []], [`${n}_fresh`, []]])) };
const idle: Record<string, number[]> = Object.fromEntries(Object.keys(ready).filter((n) => !n.endsWith("_fresh") && n !== "bare_sized").map((n) => [n, []]));
const idleRss = async (s: Started) => {
  await Bun.sleep(1_000);
  return rssMb(s.proc.pid);
};
for (let round = 0; round < STARTS; round++) {
  const order = round % 2 ? ["bare", "bare_sized", ...Object.keys(apps)].reverse() : ["bare", "bare_sized", ...Object.keys(apps)];
  for (const name of order) {
    const started = name === "bare" ? await start((port) => [bare, String(port)], "/readyz") : name === "bare_sized" ? await start((port) => [bareSized, ...sizedArgv(port)], "/readyz") : await serve(apps[name]!, existing[name]!);
    const rss = round < 3 && name !== "bare_sized" ? await idleRss(started) : null;
    ready[name]!.push(await stopped(started));
    if (rss !== null) idle[name]!.push(rss);
  }
  for (const name of Object.keys(apps)) {
    const fresh = mkdtempSync(join(dir, "fresh-"));
    ready[`${name}_fresh`]!.push(await stopped(await serve(apps[name]!, fresh)));
    rmSync(fresh, { recursive: true, force: true });
  }
}

// Peak RSS under the order load.
const loaded = await serve(binary, mkdtempSync(join(dir, "load-")));
const book = ((await (await fetch(`${loaded.url}/api/books`, { method: "POST", headers: { authorization: "Bearer dev-admin-token", "content-type": "application/json" }, body: JSON.stringify({ title: "B", author: "A", price_cents: 100, stock: 100_000_000 }) })).json()) as { data: { id: string } }).data;
let peak = rssMb(loaded.proc.pid);
const sampler = setInterval(() => (peak = Math.max(peak, rssMb(loaded.proc.pid))), 100);
const load = await wrk(`${loaded.url}/api/orders`, { seconds: DURATION, method: "POST", headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
clearInterval(sampler);
await loaded.stop();

const summary = (values: number[]) => ({ median: Math.round(median(values)), spread: [Math.round(Math.min(...values)), Math.round(Math.max(...values))] });
const readyMs = Object.fromEntries(Object.entries(ready).map(([n, v]) => [n, summary(v)]));
const idleMb = Object.fromEntries(Object.entries(idle).map(([n, v]) => [n, summary(v)]));
const ratio = (name: string) => +(readyMs[name]!.median / readyMs.bare!.median).toFixed(2);
console.log(JSON.stringify({
  bench: "binary",
  size_mb: +(statSync(binary).size / 1e6).toFixed(1),
  hello_program_ms_median_of_5: helloMs,
  version_ms_median_of_5: versionMs,
  help_ms_median_of_5: helpMs,
  starts: STARTS,
  ready_ms: readyMs,
  ready_ms_all: ready,
  ready_vs_bare_elysia: Object.fromEntries(Object.keys(apps).map((n) => [n, ratio(n)])),
  // The reference: how much of the gap any app of this size pays on Elysia and bun:sqlite.
  bare_sized_reference: { routes: routeCount, ready_vs_bare_elysia: ratio("bare_sized"), app_vs_bare_sized: +(readyMs.app!.median / readyMs.bare_sized!.median).toFixed(2) },
  idle_rss_mb: idleMb,
  load: { connections: 64, duration_s: DURATION, orders_per_s: load.requests_per_s, p99_ms: load.p99_ms, peak_rss_mb: peak },
  bars: {
    version_under_100ms: versionMs < 100,
    help_under_100ms: helpMs < 100,
    ready_on_existing_db_at_most_1_3x_bare: ratio("app") <= 1.3,
    idle_rss_at_most_55mb: idleMb.app!.median <= 55,
  },
}));
