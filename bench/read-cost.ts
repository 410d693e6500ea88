// The CPU cost of one read request, free of network and machine noise: GET /api/job_statuses/:id
// (ana's own job) and GET /api/books?limit=20 through the app as `backroom serve --dev` builds it,
// against the bare baseline's same reads (bench/lib/bare-app.ts), in-process and without a socket.
// Each request goes through the handler Bun.serve calls for the route (Elysia's
// createBunRouteHandler, the per-route function of `listen`), or with --handle through app.handle.
//   bun bench/read-cost.ts [checkout] [--only REGEX]        CPU µs per request, each case in turn, 5 rounds
//   N=20000 valgrind --tool=callgrind --callgrind-out-file=/dev/null bun bench/read-cost.ts [checkout] --case job_status
//   N=60000 …                                               (the difference of two totals over 40,000: instructions per request)
// The app is the given checkout's (default this one); the bare baseline is always this one's.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bareApp } from "./lib/bare-app.ts";

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const root = args[0] && !args[0].startsWith("--") ? args[0] : new URL("..", import.meta.url).pathname;
const ONE_CASE = option("--case");
const VIA_HANDLE = args.includes("--handle");
const N = Number(process.env.N ?? 100_000);
const WARM = Number(process.env.WARM ?? 20_000);

const { startServer } = await import(`${root}/src/runtime/server.ts`);
const { bookstore } = await import(`${root}/src/store/app.ts`);
const { createBunRouteHandler } = await import(`${root}/node_modules/elysia/dist/adapter/bun/compose.mjs`);

const dir = mkdtempSync(join(tmpdir(), "backroom-read-cost-"));
const ANA = { authorization: "Bearer dev-ana-token" };
const ADMIN = { authorization: "Bearer dev-admin-token" };
const server = await startServer(bookstore, { db: join(dir, "backroom.db"), outbox: join(dir, "outbox"), port: 0, dev: true, sync: "normal", logLevel: "error" });
type App = { handle(request: Request): Promise<Response>; compile(): unknown; router: { history: { method: string; path: string }[] } };
const app = server.built.app as unknown as App;
try {
  const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) =>
    app.handle(new Request(`http://localhost${path}`, { method, headers: { ...headers, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }));
  const book = (await (await call("POST", "/api/books", ADMIN, { title: "Bench", author: "B", price_cents: 100, stock: 1_000 })).json()) as { data: { id: string } };
  const order = (await (await call("POST", "/api/orders", ANA, { lines: [{ book_id: book.data.id, quantity: 1 }] })).json()) as { data: { job_id: string } };
  const jobId = order.data.job_id;
  for (let i = 0; ; i++) {
    const res = await app.handle(new Request(`http://localhost/api/job_statuses/${jobId}`, { headers: ANA }));
    if (((await res.json()) as { data: { status: string } }).data.status === "succeeded") break;
    if (i > 1000) throw new Error("the receipt job did not finish");
    await Bun.sleep(10);
  }
  // The bare reads on a copy of the file (the same rows).
  server.built.services.db.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  cpSync(join(dir, "backroom.db"), join(dir, "bare.db"));
  const bare = bareApp(join(dir, "bare.db")) as unknown as App;

  /** What Bun.serve runs for `path` (a route of `pattern`), with the params its router found. */
  const routeHandler = (target: App, pattern: string) => {
    target.compile();
    const route = target.router.history.find((r) => r.method === "GET" && r.path === pattern);
    if (!route) throw new Error(`no route GET ${pattern}`);
    return createBunRouteHandler(target, route) as (request: Request) => Response | Promise<Response>;
  };
  const caseOf = (target: App, pattern: string, path: string, headers: Record<string, string>, params?: Record<string, string>) => {
    const url = `http://localhost${path}`;
    if (VIA_HANDLE) return () => target.handle(new Request(url, { headers }));
    const handler = routeHandler(target, pattern);
    return () => {
      const request = new Request(url, { headers }) as Request & { params?: Record<string, string> };
      if (params) request.params = params;
      return handler(request);
    };
  };
  const cases: Record<string, () => Response | Promise<Response>> = {
    job_status: caseOf(app, "/api/job_statuses/:id", `/api/job_statuses/${jobId}`, ANA, { id: jobId }),
    bare_point_read: caseOf(bare, "/job/:id", `/job/${jobId}`, {}, { id: jobId }),
    books_list: caseOf(app, "/api/books", "/api/books?limit=20", {}),
    bare_books_list: caseOf(bare, "/books", "/books?limit=20", {}),
  };
  // Each answers what it should, or its cost means nothing.
  for (const [name, run] of Object.entries(cases)) {
    const res = await run();
    const body = (await res.json()) as { data: unknown };
    if (res.status !== 200 || !body.data) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
    if (!process.env.NOCHECK && !VIA_HANDLE && name === "job_status" && !res.headers.get("x-request-id")) throw new Error("job_status: no x-request-id");
  }
  const runMany = async (run: () => Response | Promise<Response>, n: number) => {
    for (let i = 0; i < n; i++) await run();
  };
  if (ONE_CASE) {
    const run = cases[ONE_CASE];
    if (!run) throw new Error(`no case ${ONE_CASE}`);
    await runMany(run, WARM);
    // Under callgrind --instr-atstart=no: only the N measured requests are counted.
    const instrument = (on: boolean) => process.env.CALLGRIND_CONTROL && Bun.spawnSync(["callgrind_control", "-i", on ? "on" : "off", String(process.pid)], { stdout: "ignore" });
    instrument(true);
    await runMany(run, N);
    instrument(false);
    console.log(JSON.stringify({ bench: "read-cost", case: ONE_CASE, requests: N, warm: WARM, via: VIA_HANDLE ? "handle" : "route" }));
  } else {
    const only = option("--only");
    const names = Object.keys(cases).filter((n) => !only || new RegExp(only).test(n));
    for (const name of names) await runMany(cases[name]!, WARM);
    const us: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let round = 0; round < 5; round++) {
      for (const name of round % 2 ? [...names].reverse() : names) {
        Bun.gc(true);
        const before = process.cpuUsage();
        await runMany(cases[name]!, N);
        const used = process.cpuUsage(before);
        us[name]!.push(+((used.user + used.system) / N).toFixed(3));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const m = Object.fromEntries(names.map((n) => [n, median(us[n]!)]));
    console.log(JSON.stringify({
      bench: "read-cost", checkout: root, via: VIA_HANDLE ? "handle" : "route", requests_per_round: N, cpu_us_per_request_median: m, per_round: us,
      cost_ratio: { job_status_vs_bare_point_read: +(m.job_status! / m.bare_point_read!).toFixed(2) || null, books_list_vs_bare_books_list: +(m.books_list! / m.bare_books_list!).toFixed(2) || null },
    }));
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
