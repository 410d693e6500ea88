// HTTP throughput and latency of the compiled app against compiled bare Elysia (+ bun:sqlite)
// routes, in the same run, with wrk (-t2 -c64) as the load generator in its own process.
//
//   npm run bench:http                                   (5 s per case, 3 rounds)
//   bun bench/http.ts --duration 10 --rounds 3
//   bun bench/http.ts --only 'books'                    only the cases whose name matches (no ratios)
//   bun bench/http.ts --before /tmp/before              also the app as compiled from another
//                                                       checkout (e.g. `git worktree add /tmp/before 4b8cada`
//                                                       + npm ci there), interleaved with this one
//
// Every server is a compiled binary (scripts/compile.ts; bench/lib/bare-server.ts), started for
// its case and stopped after it; the cases run in rounds, each round in another order, and the
// figures are each case's median over the rounds with the spread (min, max), and the server's
// CPU time per request answered (all its threads, from /proc: less swayed by the machine's
// other load than the rate, which also depends on what wrk gets of the 2 cores). Cases:
//   bare_const            bare Elysia, a constant
//   bare_point_read       bare Elysia + bun:sqlite: the job's row by id, as stored
//   bare_books_list       bare Elysia + bun:sqlite: the SELECT of GET /api/books?limit=20, the same
//                         rows as the same JSON (checked), COUNT only when the page needs it for
//                         its total (as the app); bare_books_list_counted always counts
//   job_status            GET /api/job_statuses/:id (the job's own user; an existing database)
//   books_list            GET /api/books?limit=20 (anonymous; 6 published books)
//   orders_full_grouped   POST /api/orders, synchronous=FULL, group commit on (fresh database, worker running)
//   orders_full_single    the same with one commit per order (--group-commit-max 1)
//   orders_normal_100c    POST /api/orders at synchronous=NORMAL, 100 connections
// Prints ONE JSON line: the cases, the ratios, and whether each bar holds.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileApp, compileBare, ROOT, start, summarize, wrk, wrkWithCpu, type Figures, type LoadOptions } from "./lib/http-load.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const SECONDS = Number(option("--duration") ?? 5);
const ROUNDS = Number(option("--rounds") ?? 3);
const BEFORE = option("--before");

const dir = mkdtempSync(join(tmpdir(), "backroom-bench-http-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const bare = await compileBare(join(dir, "bare"));
const variants: Record<string, string> = { app: compileApp(ROOT, join(dir, "app")) };
if (BEFORE) variants.before = compileApp(BEFORE, join(dir, "before"));

const ADMIN = { authorization: "Bearer dev-admin-token" };
const ANA = { authorization: "Bearer dev-ana-token" };
const json = { "content-type": "application/json" };

/** The app on a database in `cwd`, with the development users. */
const serve = (binary: string, cwd: string, extra: string[] = []) =>
  start((port) => [binary, "serve", "--port", String(port), "--dev", "--log-level", "error", ...extra], "/readyz", cwd);

/** A bench book with stock for any number of orders (the sixth published book). */
async function addBook(url: string): Promise<string> {
  const res = await fetch(`${url}/api/books`, { method: "POST", headers: { ...ADMIN, ...json }, body: JSON.stringify({ title: "Bench", author: "B", price_cents: 100, stock: 1_000_000_000 }) });
  if (res.status !== 201) throw new Error(`could not add a book: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: { id: string } }).data.id;
}

/** An existing database per variant for the reads: seeded, a sixth book, one order whose receipt job has finished. */
async function prepareReads(binary: string): Promise<{ cwd: string; jobId: string }> {
  const cwd = mkdtempSync(join(dir, "reads-"));
  const server = await serve(binary, cwd, ["--sync", "normal"]);
  try {
    const bookId = await addBook(server.url);
    const placed = await fetch(`${server.url}/api/orders`, { method: "POST", headers: { ...ANA, ...json }, body: JSON.stringify({ lines: [{ book_id: bookId, quantity: 1 }] }) });
    const { job_id: jobId } = ((await placed.json()) as { data: { job_id: string } }).data;
    for (let i = 0; ; i++) {
      const status = ((await (await fetch(`${server.url}/api/job_statuses/${jobId}`, { headers: ANA })).json()) as { data: { status: string } }).data.status;
      if (status === "succeeded") break;
      if (i > 1000) throw new Error(`the receipt job is still ${status}`);
      await Bun.sleep(10);
    }
    return { cwd, jobId };
  } finally {
    await server.stop();
  }
}

const reads: Record<string, { cwd: string; jobId: string }> = {};
for (const [name, binary] of Object.entries(variants)) reads[name] = await prepareReads(binary);
// The bare routes read a copy of this checkout's database (a closed file: no WAL left).
const bareDb = join(dir, "bare.db");
cpSync(join(reads.app!.cwd, "backroom.db"), bareDb);

const warm = (url: string, options: Omit<LoadOptions, "seconds">) => wrk(url, { seconds: 1, ...options });

/** A server for one case: started, warmed for a second, measured, stopped. */
async function measure(started: Promise<Awaited<ReturnType<typeof start>>>, path: (url: string) => Promise<string>, options: Omit<LoadOptions, "seconds">): Promise<Figures> {
  const server = await started;
  try {
    const url = await path(server.url);
    await warm(url, options);
    return await wrkWithCpu(server.proc.pid, url, { seconds: SECONDS, ...options });
  } finally {
    await server.stop();
  }
}

const startBare = (db?: string) => start((port) => [bare, String(port), ...(db ? [db] : [])], "/readyz");
const orders = (binary: string, extra: string[], connections = 64) => {
  const cwd = mkdtempSync(join(dir, "orders-"));
  let body = "";
  return measure(serve(binary, cwd, extra), async (url) => {
    body = JSON.stringify({ lines: [{ book_id: await addBook(url), quantity: 1 }] });
    return `${url}/api/orders`;
  }, { connections, method: "POST", headers: { ...ANA, ...json }, get body() { return body; } }).finally(() => rmSync(cwd, { recursive: true, force: true }));
};

const cases: Record<string, () => Promise<Figures>> = {
  bare_const: () => measure(startBare(), async (url) => `${url}/const`, {}),
  bare_point_read: () => measure(startBare(bareDb), async (url) => `${url}/job/${reads.app!.jobId}`, {}),
  bare_books_list: () => measure(startBare(bareDb), async (url) => `${url}/books?limit=20`, {}),
  bare_books_list_counted: () => measure(startBare(bareDb), async (url) => `${url}/books?limit=20&count=1`, {}),
};
for (const [name, binary] of Object.entries(variants)) {
  const prefix = name === "app" ? "" : `${name}_`;
  cases[`${prefix}job_status`] = () => measure(serve(binary, reads[name]!.cwd, ["--sync", "normal"]), async (url) => `${url}/api/job_statuses/${reads[name]!.jobId}`, { headers: ANA });
  cases[`${prefix}books_list`] = () => measure(serve(binary, reads[name]!.cwd, ["--sync", "normal"]), async (url) => `${url}/api/books?limit=20`, {});
  cases[`${prefix}orders_full_grouped`] = () => orders(binary, ["--sync", "full"]);
  cases[`${prefix}orders_full_single`] = () => orders(binary, ["--sync", "full", "--group-commit-max", "1"]);
}
cases.orders_normal_100c = () => orders(variants.app!, ["--sync", "normal"], 100);

// The bare list must answer what the app answers, or the comparison means nothing.
{
  const app = await serve(variants.app!, reads.app!.cwd, ["--sync", "normal"]);
  const base = await startBare(bareDb);
  try {
    const ours = await (await fetch(`${app.url}/api/books?limit=20`)).json();
    const theirs = await (await fetch(`${base.url}/books?limit=20`)).json();
    if (!Bun.deepEquals(ours, theirs)) throw new Error(`the bare list answers otherwise:\n${JSON.stringify(ours)}\n${JSON.stringify(theirs)}`);
  } finally {
    await app.stop();
    await base.stop();
  }
}

// --only <regex>: a subset of the cases (while working on one); the ratios need their pairs.
const only = option("--only");
const names = Object.keys(cases).filter((n) => !only || new RegExp(only).test(n));
const runs: Record<string, Figures[]> = Object.fromEntries(names.map((n) => [n, []]));
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts elsewhere in the list and alternates direction: no case always runs first or after the same one.
  const shift = Math.floor((round * names.length) / ROUNDS);
  const order = [...names.slice(shift), ...names.slice(0, shift)];
  if (round % 2 === 1) order.reverse();
  for (const name of order) runs[name]!.push(await cases[name]!());
}

const results = Object.fromEntries(names.map((n) => [n, summarize(runs[n]!)]));
if (only) {
  // Each round's figure too: only ratios within a round are free of the machine's load then.
  const perRoundRates = Object.fromEntries(names.map((n) => [n, runs[n]!.map((r) => r.requests_per_s)]));
  const perRoundCpu = Object.fromEntries(names.map((n) => [n, runs[n]!.map((r) => r.server_cpu_us_per_request)]));
  console.log(JSON.stringify({ bench: "http", only, duration_s: SECONDS, rounds: ROUNDS, cases: results, requests_per_s_per_round: perRoundRates, server_cpu_us_per_request_per_round: perRoundCpu }));
  process.exit(0);
}
const rate = (n: string) => results[n]!.requests_per_s;
const ratio = (a: string, b: string) => +(rate(a) / rate(b)).toFixed(2);
/** The ratio in each round (same round, so the machine's load then applies to both). */
const perRound = (a: string, b: string) => runs[a]!.map((r, i) => +(r.requests_per_s / runs[b]![i]!.requests_per_s).toFixed(2));
const ratios: Record<string, number> = {
  bare_point_read_vs_bare_const: ratio("bare_point_read", "bare_const"),
  job_status_vs_bare_point_read: ratio("job_status", "bare_point_read"),
  books_list_vs_bare_books_list: ratio("books_list", "bare_books_list"),
  books_list_vs_bare_books_list_counted: ratio("books_list", "bare_books_list_counted"),
  group_commit_vs_one_commit_each: ratio("orders_full_grouped", "orders_full_single"),
};
if (BEFORE) {
  ratios.before_job_status_vs_bare_point_read = ratio("before_job_status", "bare_point_read");
  ratios.before_books_list_vs_bare_books_list_counted = ratio("before_books_list", "bare_books_list_counted");
  ratios.before_group_commit_vs_one_commit_each = ratio("before_orders_full_grouped", "before_orders_full_single");
}
console.log(JSON.stringify({
  bench: "http",
  load: "wrk -t2 -c64 (orders_normal_100c: -c100)",
  duration_s: SECONDS,
  rounds: ROUNDS,
  before: BEFORE ?? null,
  cases: results,
  ratios,
  ratios_per_round: {
    job_status_vs_bare_point_read: perRound("job_status", "bare_point_read"),
    books_list_vs_bare_books_list: perRound("books_list", "bare_books_list"),
    group_commit_vs_one_commit_each: perRound("orders_full_grouped", "orders_full_single"),
  },
  bars: {
    job_status_at_least_0_8x_bare_point_read: ratios.job_status_vs_bare_point_read! >= 0.8,
    books_list_at_least_0_6x_bare_books_list: ratios.books_list_vs_bare_books_list! >= 0.6,
    group_commit_at_least_3x_at_full: ratios.group_commit_vs_one_commit_each! >= 3,
    order_p99_under_5ms_normal_100c: results.orders_normal_100c!.p99_ms < 5,
  },
}));
