// `serve --queue postgres://…`: the till's jobs run on a shared PostgreSQL queue, fed from its
// own file by store and forward. Against a real PostgreSQL when DATABASE_URL is set.
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { killChildren, spawnBun, spawnCommand, type Child } from "../support/child.ts";
import { engineUrl, toolPresent } from "../support/engines.ts";
import { freePort, portOpen } from "../support/ports.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

const NATS_SERVER = ["/usr/sbin/nats-server", Bun.which("nats-server")].find((p) => p && Bun.file(p).size > 0) ?? null;
const url = engineUrl("DATABASE_URL", "serve --queue postgres://", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 2 });
  afterAll(() => sql.close());
  let tmp: ReturnType<typeof tempDir>;
  const node = `till-${process.pid}`;
  beforeEach(() => (tmp = tempDir()));
  afterEach(async () => {
    await killChildren();
    tmp.remove();
    await sql.unsafe(`DELETE FROM backroom_jobs WHERE partition_key = $1`, [node]).catch(() => {});
  });

  async function start(...args: string[]): Promise<{ child: Child; url: string }> {
    const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("till.db"), "--log-level", "warn", "--dev", ...args]);
    const line = await child.waitForLine(/^Backroom listening on /);
    return { child, url: /(http:\/\/\S+)/.exec(line)![1]! };
  }

  async function placeOrder(base: string): Promise<string> {
    const book = ((await (await fetch(`${base}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
    const placed = await fetch(`${base}/api/orders`, {
      method: "POST",
      headers: { authorization: "Bearer dev-ana-token", "content-type": "application/json" },
      body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }),
    });
    expect(placed.status).toBe(202);
    return ((await placed.json()) as { data: { job_id: string } }).data.job_id;
  }

  const jobStatus = async (base: string, id: string) =>
    ((await (await fetch(`${base}/api/job_statuses/${id}`, { headers: { authorization: "Bearer dev-ana-token" } })).json()) as { data?: { status: string } }).data?.status;

  test("an order's receipt job is forwarded to PostgreSQL in the till's partition and run there; the client polls it by the same id", async () => {
    const { child, url: base } = await start("--queue", url, "--node", node);
    const jobId = await placeOrder(base);
    await waitFor(async () => (await jobStatus(base, jobId)) === "succeeded", 10_000, "the receipt job to succeed");
    const [row] = (await sql.unsafe(`SELECT status, partition_key, type FROM backroom_jobs WHERE id = $1`, [jobId])) as Record<string, unknown>[];
    expect(row).toEqual({ status: "succeeded", partition_key: node, type: "send_receipt" });

    // /metrics counts this till's jobs in PostgreSQL, not another till's: summed over the fleet, each job once.
    const insertDead = (id: string, partition: string) =>
      sql.unsafe(`INSERT INTO backroom_jobs (id, type, status, payload, max_retry, run_at, created_at, updated_at, partition_key) VALUES ($1, 'sync_stock', 'dead', '{}', 3, 0, 0, 0, $2)`, [id, partition]);
    await insertDead(`${node}-dead`, node);
    await insertDead(`${node}-other`, `${node}-other`);
    try {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('backroom_jobs{type="sync_stock",state="dead"} 1\n');
      expect(metrics).toContain("backroom_jobs_unforwarded 0\n");
      expect(metrics).toContain("backroom_jobs_unforwarded_oldest_age_seconds 0\n");
    } finally {
      await sql.unsafe(`DELETE FROM backroom_jobs WHERE id IN ($1, $2)`, [`${node}-dead`, `${node}-other`]);
    }
    child.proc.kill("SIGTERM");
    expect(await child.proc.exited).toBe(0);
    const file = new Database(tmp.file("till.db"), { readonly: true });
    expect(file.query("SELECT count(*) AS n FROM jobs WHERE type = 'send_receipt'").get()).toEqual({ n: 0 }); // the outbox is empty
    file.close();
  });

  if (toolPresent(NATS_SERVER, "nats-server (/usr/sbin/nats-server)", "serve --queue postgres:// --bus nats://")) test("on a network bus, a job's events are written to PostgreSQL with its settle (the till's file keeps the order's), and relayed from there once the broker is up", async () => {
    const port = await freePort(); // the broker is down: nothing listens here yet
    const natsUrl = `nats://127.0.0.1:${port}`;
    const { child, url: base } = await start("--queue", url, "--node", node, "--bus", natsUrl);
    const jobId = await placeOrder(base);
    await waitFor(async () => (await jobStatus(base, jobId)) === "succeeded", 10_000, "the receipt job to succeed");
    const kept = async () => ((await sql.unsafe(`SELECT event FROM backroom_jobs_events WHERE event LIKE $1 ORDER BY seq`, [`%"job_id":"${jobId}"%`])) as { event: string }[]).map((r) => (JSON.parse(r.event) as { type: string }).type);
    expect(await kept()).toEqual(["job.send_receipt.started", "job.send_receipt.completed"]);
    const file = new Database(tmp.file("till.db"), { readonly: true });
    const fileEvents = (file.query("SELECT event FROM event_outbox_waiting").all() as { event: string }[]).map((r) => (JSON.parse(r.event) as { type: string }).type);
    file.close();
    expect(fileEvents).toContain("order.created");
    expect(fileEvents.filter((type) => type.startsWith("job."))).toEqual([]);

    spawnCommand([NATS_SERVER!, "-a", "127.0.0.1", "-p", String(port)]);
    await waitFor(() => portOpen(port), 10_000, "nats-server to listen");
    const listener = spawnBun("test/support/fixtures/event-listener.ts", [natsUrl, "job.send_receipt.completed"]);
    await listener.waitForLine(/^ready$/, 30_000);
    await waitFor(() => listener.output().includes(` ${jobId}\n`), 20_000, "the completed event, relayed from PostgreSQL");
    await waitFor(async () => (await kept()).length === 0, 10_000, "the relayed events to leave PostgreSQL");
    child.proc.kill("SIGTERM");
    expect(await child.proc.exited).toBe(0);
  }, 60_000);

  test("with PostgreSQL out of reach the till still takes orders; their jobs run once it can forward them", async () => {
    // A port nothing listens on: every forward fails, the orders commit regardless.
    const { child, url: base } = await start("--queue", "postgres://postgres@127.0.0.1:1/test", "--node", node);
    const jobId = await placeOrder(base);
    expect(await jobStatus(base, jobId)).toBe("enqueued");
    // The scrape still answers; it says how much waits and for how long, and leaves out the
    // counts it could not read rather than report the outbox's alone as if they were all.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain("backroom_jobs_unforwarded 1\n");
    expect(Number(/^backroom_jobs_unforwarded_oldest_age_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).not.toMatch(/^backroom_jobs\{/m);
    child.proc.kill("SIGTERM");
    expect(await child.proc.exited).toBe(0);
    const again = await start("--queue", url, "--node", node); // the line is back
    await waitFor(async () => (await jobStatus(again.url, jobId)) === "succeeded", 10_000, "the waiting job to run");
  });

  test("a PostgreSQL that accepts connections and never answers: orders still 202, reads of it 503 within seconds, SIGTERM exits promptly", async () => {
    // The worst kind of outage for a till: a server (or a firewall) that swallows packets.
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    try {
      const { child, url: base } = await start("--queue", `postgres://postgres@127.0.0.1:${silent.port}/test`, "--node", node);
      const jobId = await placeOrder(base);
      expect(await jobStatus(base, jobId)).toBe("enqueued"); // from the outbox: no wait
      const listed = await fetch(`${base}/api/job_statuses`, { headers: { authorization: "Bearer dev-admin-token" } });
      expect(listed.status).toBe(503);
      expect(((await listed.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
      const t0 = performance.now();
      child.proc.kill("SIGTERM");
      expect(await child.proc.exited).toBe(0);
      expect(performance.now() - t0).toBeLessThan(15_000); // the connect timeout (5 s) bounds it, not the default 30 s
    } finally {
      silent.stop(true);
    }
  }, 30_000);

  test("jobs --queue postgres:// lists, shows, retries, cancels and purges every till's jobs, no file needed", async () => {
    const other = `${node}-b`;
    const old = Date.now() - 30 * 86_400_000;
    const insert = (id: string, status: string, partition: string, completedAt: number | null) =>
      sql.unsafe(`INSERT INTO backroom_jobs (id, type, status, payload, max_retry, run_at, created_at, updated_at, completed_at, partition_key, error) VALUES ($1, 'sync_stock', $2, '{}', 3, 0, $3, $3, $4, $5, $6)`,
        [id, status, old, completedAt, partition, status === "dead" ? "head office down" : null]);
    const ids = { dead: `${node}-dead`, waiting: `${other}-waiting`, old: `${other}-old` };
    await new PostgresQueue({ sql }).migrate();
    await insert(ids.dead, "dead", node, old);
    await insert(ids.waiting, "enqueued", other, null);
    await insert(ids.old, "succeeded", other, old);
    const cli = (...args: string[]) => {
      const r = Bun.spawnSync([process.execPath, "src/main.ts", "jobs", ...args, "--queue", url], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BACKROOM_DB: tmp.file("absent.db") } });
      return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
    };
    try {
      const list = cli("list", "--type", "sync_stock", "--limit", "100");
      expect(list.code).toBe(0);
      for (const id of Object.values(ids)) expect(list.out).toContain(id); // both partitions
      expect(cli("list", "--status", "dead", "--type", "sync_stock").out).toContain("head office down");
      expect(JSON.parse(cli("show", ids.waiting).out)).toMatchObject({ id: ids.waiting, status: "enqueued" });
      expect(cli("retry", ids.dead)).toMatchObject({ code: 0, out: `job ${ids.dead} queued again\n` });
      expect(cli("cancel", ids.waiting)).toMatchObject({ code: 0, out: `job ${ids.waiting} cancelled\n` });
      expect(cli("cancel", ids.waiting)).toMatchObject({ code: 1, err: expect.stringContaining("already finished") });
      expect(cli("show", "nope")).toMatchObject({ code: 1, err: expect.stringContaining("no job nope") });
      expect(cli("purge", "--node", other).out).toContain("purged ");
      const left = (await sql.unsafe(`SELECT id, status FROM backroom_jobs WHERE id IN ($1, $2, $3) ORDER BY id`, [ids.dead, ids.waiting, ids.old])) as { id: string; status: string }[];
      expect(left).toEqual([{ id: ids.waiting, status: "cancelled" }, { id: ids.dead, status: "enqueued" }]); // the old one purged; the new cancel kept
      expect(existsSync(tmp.file("absent.db"))).toBe(false);
    } finally {
      await sql.unsafe(`DELETE FROM backroom_jobs WHERE id IN ($1, $2, $3)`, [ids.dead, ids.waiting, ids.old]);
    }
    const empty = Bun.spawnSync([process.execPath, "src/main.ts", "jobs", "list", "--queue", url.replace(/\/test$/, "/postgres")], { stdout: "pipe", stderr: "pipe" });
    expect(empty.exitCode).toBe(1); // a runtime failure, not a usage mistake
    expect(empty.stderr.toString()).toContain("has no Backroom queue");
    const unreachable = Bun.spawnSync([process.execPath, "src/main.ts", "jobs", "list", "--queue", "postgres://postgres@127.0.0.1:1/test"], { stdout: "pipe", stderr: "pipe" });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr.toString()).toStartWith("backroom: ");
  });

  test("a bad --queue is refused with a usage error", async () => {
    const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("till.db"), "--queue", "mysql://x"]);
    expect(await child.proc.exited).toBe(2);
    expect(await child.errors()).toContain("--queue must be sqlite or postgres://");
  });
}
