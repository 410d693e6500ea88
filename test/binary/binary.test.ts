// The compiled single-file binary, driven as an operator would: built here, started on an
// empty directory, an order placed and its receipt found, stopped with SIGTERM; then killed
// -9 under load and restarted with nothing lost.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../../src/db/index.ts";
import { storeMigrations } from "../../src/store/app.ts";
import { killChildren, spawnCommand } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
let binary: string;
let sandboxBinary: string;
let startProfiled: string;
beforeAll(() => {
  tmp = tempDir();
  binary = tmp.file("backroom");
  sandboxBinary = tmp.file("sandbox-app");
  const build = Bun.spawnSync([process.execPath, "scripts/compile.ts", "--outfile", binary], { stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`compile failed: ${build.stderr}`);
  startProfiled = build.stdout.toString();
  const sandboxed = ["--entry", "test/binary/fixtures/sandbox-app.ts", "--sandbox", "test/jobs/fixtures/sandboxed-handlers.ts", "--outfile", sandboxBinary];
  const build2 = Bun.spawnSync([process.execPath, "scripts/compile.ts", ...sandboxed], { stdout: "pipe", stderr: "pipe" });
  if (build2.exitCode !== 0) throw new Error(`compile failed: ${build2.stderr}`);
}, 180_000);
afterEach(killChildren); // a server left by a failed assertion must not outlive its test
afterAll(() => tmp.remove());

function start(cwd: string, ...args: string[]) {
  const child = spawnCommand([binary, "serve", "--port", "0", "--dev", "--log-level", "warn", ...args], { cwd });
  const url = child.waitForLine(/listening on http:\/\//, 30_000).then((line) => /(http:\/\/\S+)/.exec(line)![1]!);
  return { proc: child.proc, url };
}

const auth = { authorization: "Bearer dev-ana-token", "content-type": "application/json" };

test("the build records a start of its own and lays the binary's bytecode out by it (scripts/compile.ts)", () => {
  // Without the profile the binary still works, only slower to start: this is what says it was taken.
  expect(startProfiled).toContain("(bytecode laid out by a recorded start)");
  expect(startProfiled).not.toContain("note: no start profile");
});

test("the binary needs nothing beside it: ready, an order's receipt in the outbox, SIGTERM exits 0 with no job left running", async () => {
  const dir = tmp.file("till");
  Bun.spawnSync(["mkdir", "-p", dir]);
  expect(Bun.spawnSync([binary, "--version"]).stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+$/);
  const { proc, url } = start(dir);
  const base = await url;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 10_000, "readyz");
  const book = ((await (await fetch(`${base}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
  const placed = (await (await fetch(`${base}/api/orders`, { method: "POST", headers: auth, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) })).json()) as { data: { job_id: string } };
  await waitFor(async () => ((await (await fetch(`${base}/api/job_statuses/${placed.data.job_id}`, { headers: auth })).json()) as { data: { status: string } }).data.status === "succeeded", 10_000, "the receipt");
  expect(readdirSync(join(dir, "outbox")).filter((f) => f.endsWith(".eml")).length).toBe(1);
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  const db = openDatabase(join(dir, "backroom.db"), { readonly: true, migrations: storeMigrations });
  expect(db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'running'").get()).toEqual({ n: 0 });
  db.close();
  expect(existsSync(join(dir, "backroom.db-wal")) ? Bun.file(join(dir, "backroom.db-wal")).size : 0).toBe(0); // checkpointed
}, 60_000);

test("kill -9 under load, then restart: every acknowledged order is there and every receipt is sent", async () => {
  const dir = tmp.file("crash");
  Bun.spawnSync(["mkdir", "-p", dir]);
  const first = start(dir);
  const base = await first.url;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 10_000, "readyz");
  const admin = { authorization: "Bearer dev-admin-token", "content-type": "application/json" };
  const book = ((await (await fetch(`${base}/api/books`, { method: "POST", headers: admin, body: JSON.stringify({ title: "Load", author: "L", price_cents: 1, stock: 1_000_000 }) })).json()) as { data: { id: string } }).data;
  const acknowledged: string[] = [];
  let stop = false;
  const clients = Array.from({ length: 8 }, async () => {
    while (!stop) {
      try {
        const res = await fetch(`${base}/api/orders`, { method: "POST", headers: auth, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
        if (res.status === 202) acknowledged.push(((await res.json()) as { data: { order_id: string } }).data.order_id);
      } catch {
        return;
      }
    }
  });
  await waitFor(() => acknowledged.length >= 100, 20_000, "100 orders");
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  stop = true;
  await Promise.all(clients);

  const second = start(dir);
  const base2 = await second.url;
  await waitFor(async () => (await fetch(`${base2}/readyz`).catch(() => null))?.status === 200, 10_000, "readyz after restart");
  const db = () => openDatabase(join(dir, "backroom.db"), { readonly: true, migrations: storeMigrations });
  await waitFor(() => {
    const d = db();
    const open = (d.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'send_receipt' AND status <> 'succeeded'").get() as { n: number }).n;
    d.close();
    return open === 0;
  }, 20_000, "every receipt sent");
  const d = db();
  const orders = new Set((d.sqlite.query("SELECT id FROM orders").all() as { id: string }[]).map((o) => o.id));
  d.close();
  for (const id of acknowledged) expect(orders.has(id)).toBe(true);
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
}, 90_000);

test("sandboxed job types run from the binary's threads: results, database reads, a runaway terminated and retried", async () => {
  const dir = tmp.file("sandboxed");
  Bun.spawnSync(["mkdir", "-p", dir]);
  const jobs = [{ type: "echo", payload: { a: 1 } }, { type: "spin", payload: { foreverOnAttempt: 1, ms: 1 } }, { type: "read_jobs" }];
  const child = spawnCommand([sandboxBinary, "serve", "--port", "0", "--log-level", "warn", "--sandbox-threads", "2"], { cwd: dir, env: { SANDBOX_APP_JOBS: JSON.stringify(jobs) } });
  const base = /(http:\/\/\S+)/.exec(await child.waitForLine(/listening on http:\/\//, 30_000))![1]!;
  const rows = () => {
    const db = openDatabase(join(dir, "sandbox-app.db"), { readonly: true });
    const all = db.sqlite.query("SELECT type, status, attempts, output FROM job_statuses ORDER BY id").all() as { type: string; status: string; attempts: number; output: string }[];
    db.close();
    return all;
  };
  await waitFor(async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200); // answering all along
    return rows().every((r) => r.status === "succeeded");
  }, 20_000, "every sandboxed job to succeed");
  const [echo, spin, read] = rows();
  expect(JSON.parse(echo!.output)).toMatchObject({ payload: { a: 1 }, data: { from: "binary" } });
  expect(spin).toMatchObject({ attempts: 2 });
  expect(JSON.parse(read!.output)).toEqual({ jobs: 3 });
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
}, 60_000);

test("the binary refuses to start with a wrong sandboxed export, or a module not compiled into it", () => {
  const dir = tmp.file("refused");
  Bun.spawnSync(["mkdir", "-p", dir]);
  const serve = (env: Record<string, string>) => Bun.spawnSync([sandboxBinary, "serve", "--port", "0"], { cwd: dir, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const wrong = serve({ SANDBOX_APP_EXPORT: "nope" });
  expect(wrong.exitCode).toBe(1);
  expect(wrong.stderr.toString()).toContain('sandbox-app: job type "echo": ');
  expect(wrong.stderr.toString()).toContain('has no exported function "nope"');
  const missing = serve({ SANDBOX_APP_MODULE: "uncompiled" });
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr.toString()).toContain("its sandboxed module uncompiled-handlers.ts is not compiled into this binary; build it with scripts/compile.ts --sandbox");
});
