// The binary's serve command over a real socket: first run, the seeds' client flow, limits
// only a network shows, graceful stop, and a restart on the same file.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { killChildren, spawnBun, type Child } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren();
  tmp.remove();
});

async function start(...args: string[]): Promise<{ child: Child; url: string }> {
  const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("shop.db"), "--log-level", "warn", ...args]);
  const line = await child.waitForLine(/^Backroom listening on /);
  return { child, url: /(http:\/\/\S+)/.exec(line)![1]! };
}

test("first run creates an admin and prints its token once; a restart keeps the data and prints none", async () => {
  const first = await start();
  const token = (await first.child.waitForLine(/^\s+brt_/)).trim();
  const me = await fetch(`${first.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(await me.json()).toMatchObject({ data: { email: "admin@localhost", roles: ["admin"] } });
  first.child.proc.kill("SIGTERM");
  expect(await first.child.proc.exited).toBe(0);

  const second = await start();
  expect(second.child.output()).not.toContain("brt_");
  const books = (await (await fetch(`${second.url}/api/books`)).json()) as { meta: { total: number } };
  expect(books.meta.total).toBe(5); // seeded once, not again
  const again = await fetch(`${second.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(again.status).toBe(200);
});

test("over a real socket: order → 202 → poll until succeeded; oversized bodies and unknown paths get the envelope; SIGTERM exits 0", async () => {
  const { child, url } = await start("--dev");
  const auth = { authorization: "Bearer dev-ana-token" };
  const book = ((await (await fetch(`${url}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
  const placed = await fetch(`${url}/api/orders`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }),
  });
  expect(placed.status).toBe(202);
  expect(placed.headers.get("x-request-id")).toBeTruthy();
  const { job_id } = ((await placed.json()) as { data: { job_id: string } }).data;
  let status: { status: string; completed_at: string | null } | undefined;
  await waitFor(async () => {
    status = ((await (await fetch(`${url}/api/job_statuses/${job_id}`, { headers: auth })).json()) as { data: typeof status }).data;
    return status?.status === "succeeded";
  }, 10_000, "the receipt job to succeed");
  expect(status!.completed_at).not.toBeNull();

  const huge = await fetch(`${url}/api/orders`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ lines: [], pad: "x".repeat(2 * 1024 * 1024) }) });
  expect(huge.status).toBe(413);
  expect(((await huge.json()) as { error: { code: string } }).error.code).toBe("BODY_TOO_LARGE");
  const missing = await fetch(`${url}/nothing/here`);
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");

  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
});

test("--memory serves the same flow on the in-memory queue, leaving no database file behind", async () => {
  const { child, url } = await start("--memory", "--dev", "--outbox", tmp.file("outbox"));
  const auth = { authorization: "Bearer dev-ben-token", "content-type": "application/json" };
  const book = ((await (await fetch(`${url}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
  const placed = await fetch(`${url}/api/orders`, { method: "POST", headers: auth, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 2 }] }) });
  expect(placed.status).toBe(202);
  const { job_id } = ((await placed.json()) as { data: { job_id: string } }).data;
  await waitFor(async () => ((await (await fetch(`${url}/api/job_statuses/${job_id}`, { headers: auth })).json()) as { data: { status: string } }).data.status === "succeeded", 10_000);
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
  expect(await Bun.file(tmp.file("shop.db")).exists()).toBe(false);
});
