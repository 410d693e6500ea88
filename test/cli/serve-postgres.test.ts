// `serve --queue postgres://…`: the till's jobs run on a shared PostgreSQL queue, fed from its
// own file by store and forward. Against a real PostgreSQL when DATABASE_URL is set.
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { spawnBun, type Child } from "../support/child.ts";
import { engineUrl } from "../support/engines.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

const url = engineUrl("DATABASE_URL", "serve --queue postgres://", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 2 });
  afterAll(() => sql.close());
  let tmp: ReturnType<typeof tempDir>;
  let children: Child[] = [];
  const node = `till-${process.pid}`;
  beforeEach(() => (tmp = tempDir()));
  afterEach(async () => {
    for (const c of children) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.proc.exited));
    children = [];
    tmp.remove();
    await sql.unsafe(`DELETE FROM backroom_jobs WHERE partition_key = $1`, [node]).catch(() => {});
  });

  async function start(...args: string[]): Promise<{ child: Child; url: string }> {
    const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("till.db"), "--log-level", "warn", "--dev", ...args]);
    children.push(child);
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
    child.proc.kill("SIGTERM");
    expect(await child.proc.exited).toBe(0);
    const file = new Database(tmp.file("till.db"), { readonly: true });
    expect(file.query("SELECT count(*) AS n FROM jobs WHERE type = 'send_receipt'").get()).toEqual({ n: 0 }); // the outbox is empty
    file.close();
  });

  test("with PostgreSQL out of reach the till still takes orders; their jobs run once it can forward them", async () => {
    // A port nothing listens on: every forward fails, the orders commit regardless.
    const { child, url: base } = await start("--queue", "postgres://postgres@127.0.0.1:1/test", "--node", node);
    const jobId = await placeOrder(base);
    expect(await jobStatus(base, jobId)).toBe("enqueued");
    child.proc.kill("SIGTERM");
    expect(await child.proc.exited).toBe(0);
    const again = await start("--queue", url, "--node", node); // the line is back
    await waitFor(async () => (await jobStatus(again.url, jobId)) === "succeeded", 10_000, "the waiting job to run");
  });

  test("a bad --queue is refused with a usage error", async () => {
    const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("till.db"), "--queue", "mysql://x"]);
    children.push(child);
    expect(await child.proc.exited).toBe(2);
    expect(await child.errors()).toContain("--queue must be sqlite or postgres://");
  });
}
