// Files the till writes hold customers' e-mails, token hashes and webhook secrets: under the
// usual umask 022 they must still be created readable by their owner only.
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { childProcesses, listeningUrl, orderAndAwaitReceipt } from "../support/serve-child.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
const children = childProcesses();
let savedUmask = 0;
// Children inherit the umask: the server below runs under 022, as on a default Linux account.
beforeAll(() => (savedUmask = process.umask(0o022)));
afterAll(() => process.umask(savedUmask));
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await children.killAll();
  tmp.remove();
});

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test("under umask 022, the database, WAL, SHM, lock, outbox folder, .eml files and backups are created owner-only", async () => {
  const db = tmp.file("shop.db");
  const child = children.spawn("src/main.ts", ["serve", "--port", "0", "--db", db, "--dev", "--log-level", "warn"]);
  await orderAndAwaitReceipt(await listeningUrl(child));

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
