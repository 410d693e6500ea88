// HTTP throughput and latency over loopback, with autocannon as the load generator (its own
// Node process), against a bare Elysia route returning a constant, in the same run.
//
//   npm run bench:http                      (10 s per case)
//   bun bench/http.ts --duration 5
//
// Cases: the bare route; GET /api/job_statuses/:id (100 connections); POST /api/orders (a new
// order, stock taken, receipt job enqueued, worker running) at synchronous=NORMAL with 100
// and 10 connections, and at FULL with 64 connections with group commit on and off (one
// commit per order; three alternating rounds, medians). Prints ONE JSON line with requests/s and p50/p99 latency (ms) per case,
// the ratios, and whether each bar holds.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const args = process.argv.slice(2);
const DURATION = args.includes("--duration") ? Number(args[args.indexOf("--duration") + 1]) : 10;
const AUTOCANNON = join(dirname(createRequire(import.meta.url).resolve("autocannon/package.json")), "autocannon.js");

interface Figures {
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx: number;
  errors: number;
}
interface ServerInfo {
  url: string;
  book_id?: string;
  job_id?: string;
  token?: string;
}

async function withServer<T>(serverArgs: string[], use: (info: ServerInfo) => Promise<T>): Promise<T> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "http-server.ts"), ...serverArgs], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server ${serverArgs.join(" ")} exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  try {
    return await use(JSON.parse(text.split("\n")[0]!));
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function load(url: string, connections: number, extra: string[] = []): Promise<Figures> {
  const run = Bun.spawn(["node", AUTOCANNON, "--json", "-d", String(DURATION), "-c", String(connections), ...extra, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(run.stdout).text();
  if ((await run.exited) !== 0) throw new Error(`autocannon failed: ${await new Response(run.stderr).text()}`);
  const r = JSON.parse(out);
  return { requests_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non_2xx: r.non2xx, errors: r.errors };
}

const orders = (info: ServerInfo, connections: number) =>
  load(`${info.url}/api/orders`, connections, [
    "-m", "POST", "-H", `authorization=Bearer ${info.token}`, "-H", "content-type=application/json",
    "-b", JSON.stringify({ lines: [{ book_id: info.book_id, quantity: 1 }] }),
  ]);

const bare = await withServer(["bare"], (info) => load(`${info.url}/const`, 100));
const normal = await withServer(["store", "NORMAL"], async (info) => ({
  status: await load(`${info.url}/api/job_statuses/${info.job_id}`, 100, ["-H", `authorization=Bearer ${info.token}`]),
  order100: await orders(info, 100),
  order10: await orders(info, 10),
}));
// The group-commit comparison is the noisiest (one side is CPU-bound, the other fsync-bound):
// three rounds, alternating which goes first, medians.
const groupedRuns: Figures[] = [];
const singleRuns: Figures[] = [];
for (let round = 0; round < 3; round++) {
  const grouped = () => withServer(["store", "FULL", "64"], (info) => orders(info, 64)).then((f) => void groupedRuns.push(f));
  const single = () => withServer(["store", "FULL", "1"], (info) => orders(info, 64)).then((f) => void singleRuns.push(f));
  if (round % 2 === 0) await grouped().then(single);
  else await single().then(grouped);
}
const byRate = (runs: Figures[]) => [...runs].sort((a, b) => a.requests_per_s - b.requests_per_s)[1]!;
const fullGrouped = byRate(groupedRuns);
const fullSingle = byRate(singleRuns);

const ratio = (a: number, b: number) => +(a / b).toFixed(2);
const statusVsBare = ratio(normal.status.requests_per_s, bare.requests_per_s);
const groupVsSingle = ratio(fullGrouped.requests_per_s, fullSingle.requests_per_s);
console.log(JSON.stringify({
  bench: "http",
  duration_s: DURATION,
  bare_route_100c: bare,
  job_status_read_100c: normal.status,
  place_order_normal_100c: normal.order100,
  place_order_normal_10c: normal.order10,
  place_order_full_64c_group_commit: fullGrouped,
  place_order_full_64c_one_commit_each: fullSingle,
  group_commit_rounds: groupedRuns.map((g, i) => +(g.requests_per_s / singleRuns[i]!.requests_per_s).toFixed(2)),
  ratio: { status_vs_bare: statusVsBare, group_commit_vs_one_commit_each: groupVsSingle },
  bars: {
    status_read_at_least_half_of_bare: statusVsBare >= 0.5,
    order_p99_under_5ms_normal_100c: normal.order100.p99_ms < 5,
    group_commit_at_least_3x_at_full: groupVsSingle >= 3,
  },
}));
