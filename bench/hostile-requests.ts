// What two hostile requests cost the server (issue 16 items 2 and 3), each on a fresh
// `serve --memory --dev` in a child process, from any checkout (to compare versions):
//   bun bench/hostile-requests.ts [checkout]
// 1. POST /api/orders with a 1 MB body of {"lines":[{},{},…]} (about 333,000 invalid lines):
//    time to the answer, time of a /healthz sent 0.3 s after it, the server's peak RSS rise.
// 2. GET /api/job_statuses?filter=type:like:%%…%x (26 %) as a user who has no jobs, and as
//    the admin, with 20 jobs in the queue: time to the answer.
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? join(import.meta.dir, "..");
const rssKb = (pid: number, field: "VmRSS" | "VmHWM") => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);

async function server() {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const proc = Bun.spawn([process.execPath, join(root, "src/main.ts"), "serve", "--memory", "--dev", "--port", String(port), "--log-level", "error"], { cwd: root, stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) {
    if (i > 500) throw new Error("server did not start");
    await Bun.sleep(20);
  }
  return { proc, url };
}

const timed = async (f: () => Promise<Response>) => {
  const t0 = performance.now();
  const r = await f();
  await r.arrayBuffer();
  return { status: r.status, ms: Math.round(performance.now() - t0) };
};

{
  const { proc, url } = await server();
  const idle = rssKb(proc.pid, "VmRSS");
  const body = `{"lines":[${Array((1_000_000 - 12) / 3 | 0).fill("{}").join(",")}]}`;
  const order = timed(() => fetch(`${url}/api/orders`, { method: "POST", headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" }, body }));
  await Bun.sleep(300);
  const health = await timed(() => fetch(`${url}/healthz`));
  const answer = await order;
  console.log(JSON.stringify({ bench: "hostile", case: "1 MB of invalid order lines", answer, healthz_behind_it: health, peak_rss_rise_mb: Math.round((rssKb(proc.pid, "VmHWM") - idle) / 1024) }));
  proc.kill();
  await proc.exited;
}
{
  const { proc, url } = await server();
  const book = ((await (await fetch(`${url}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!.id;
  for (let i = 0; i < 20; i++) {
    await fetch(`${url}/api/orders`, { method: "POST", headers: { authorization: "Bearer dev-ben-token", "content-type": "application/json" }, body: JSON.stringify({ lines: [{ book_id: book, quantity: 1 }] }) });
  }
  const pattern = `${"%25".repeat(26)}x`;
  const list = (token: string) => timed(() => fetch(`${url}/api/job_statuses?filter=type:like:${pattern}`, { headers: { authorization: `Bearer ${token}` } }));
  console.log(JSON.stringify({ bench: "hostile", case: "LIKE with 26 %", user_without_jobs: await list("dev-ana-token"), admin: await list("dev-admin-token") }));
  proc.kill();
  await proc.exited;
}
