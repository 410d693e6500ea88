// A clean first install and start from a clone: npm 11 runs no dependency install script that
// package.json does not approve (bun's postinstall puts its binary in place), and every file
// the binary makes beside its database (WAL, shared memory, owner lock and its journal, the
// outbox) is ignored by git, while it runs and after it stops.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { resolve } from "node:path";
import { childProcesses, listeningUrl, orderAndAwaitReceipt } from "../support/serve-child.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
const children = childProcesses();
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await children.killAll();
  tmp.remove();
});

test("package.json approves the install script of every locked dependency that has one (bun's), so npm ci skips none and warns of none", async () => {
  const root = resolve(import.meta.dir, "../..");
  const lock = (await Bun.file(`${root}/package-lock.json`).json()) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const approved = ((await Bun.file(`${root}/package.json`).json()) as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
  const withScripts = Object.entries(lock.packages).filter(([, p]) => p.hasInstallScript).map(([path]) => path.replace(/^.*node_modules\//, ""));
  expect(withScripts).toContain("bun");
  expect(withScripts.filter((name) => approved[name] !== true && !Object.entries(approved).some(([k, v]) => v === true && k.startsWith(`${name}@`)))).toEqual([]);
});

/** What `git status` would show a developer in the clone: untracked files, our .gitignore aside. */
function untracked(): string[] {
  const r = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=all"], { cwd: tmp.dir, stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(0);
  return r.stdout.toString().split("\n").filter((l) => l && l !== "?? .gitignore");
}

test("the repository's .gitignore covers every file serve makes beside the database, while it runs and after it stops", async () => {
  expect(Bun.spawnSync(["git", "init", "-q", tmp.dir]).exitCode).toBe(0);
  copyFileSync(resolve(import.meta.dir, "../../.gitignore"), tmp.file(".gitignore"));
  // The README's `npm start`: ./backroom.db, outbox/ beside it.
  const child = children.spawn(resolve(import.meta.dir, "../../src/main.ts"), ["serve", "--port", "0", "--db", tmp.file("backroom.db"), "--dev", "--log-level", "warn"]);
  await orderAndAwaitReceipt(await listeningUrl(child));

  const made = Bun.spawnSync(["ls", "-A", tmp.dir], { stdout: "pipe" }).stdout.toString().split("\n").filter(Boolean);
  expect(made).toEqual(expect.arrayContaining(["backroom.db", "backroom.db-wal", "backroom.db-shm", "backroom.db-lock", "outbox"]));
  expect(untracked()).toEqual([]);
  child.proc.kill("SIGTERM");
  expect(await child.proc.exited).toBe(0);
  expect(untracked()).toEqual([]);
});
