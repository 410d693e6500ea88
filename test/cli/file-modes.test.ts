// Files the till writes hold customers' e-mails, token hashes and webhook secrets: under the
// usual umask 022 they must still be created readable by their owner only.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { spawnBun, type Child } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
let children: Child[] = [];
let savedUmask = 0;
// Children inherit the umask: the server below runs under 022, as on a default Linux account.
beforeAll(() => (savedUmask = process.umask(0o022)));
afterAll(() => process.umask(savedUmask));
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  for (const c of children) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => c.proc.exited));
  children = [];
  tmp.remove();
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test("under umask 022, the database, WAL, SHM, lock, outbox folder, .eml files and backups are created owner-only", async () => {
  const db = tmp.file("shop.db");
  const child = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", db, "--dev", "--log-level", "warn"]);
  children.push(child);
  const url = /(http:\/\/\S+)/.exec(await child.waitForLine(/^Backroom listening on /))![1]!;
  const auth = { authorization: "Bearer dev-ana-token", "content-type": "application/json" };
  const book = ((await (await fetch(`${url}/api/books?limit=1`)).json()) as { data: { id: string }[] }).data[0]!;
  const placed = await fetch(`${url}/api/orders`, { method: "POST", headers: auth, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
  expect(placed.status).toBe(202);
  const { job_id } = ((await placed.json()) as { data: { job_id: string } }).data;
  await waitFor(async () => ((await (await fetch(`${url}/api/job_statuses/${job_id}`, { headers: auth })).json()) as { data: { status: string } }).data.status === "succeeded", 10_000, "the receipt");

  const backup = Bun.spawnSync([process.execPath, "src/main.ts", "backup", tmp.file("copy.db"), "--db", db], { stdout: "pipe", stderr: "pipe" });
  expect(backup.exitCode).toBe(0);

  const emls = readdirSync(tmp.file("outbox")).filter((f) => f.endsWith(".eml"));
  expect(emls.length).toBeGreaterThan(0);
  const modes = Object.fromEntries([
    ...["shop.db", "shop.db-wal", "shop.db-shm", "shop.db-lock", "copy.db"].map((f) => [f, mode(tmp.file(f))]),
    ["outbox/", mode(tmp.file("outbox"))],
    ...emls.map((f) => [`outbox/${f}`, mode(tmp.file(`outbox/${f}`))]),
  ]);
  expect(modes).toEqual(Object.fromEntries(Object.keys(modes).map((f) => [f, f.endsWith("/") ? "700" : "600"])));
});
