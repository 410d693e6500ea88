// The binary's user commands and its error handling: one-line messages, non-zero exits.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

const run = (...args: string[]) => {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BACKROOM_DB: tmp.file("shop.db") } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

test("user add prints a working token once; user list shows the user; user token issues another", () => {
  const added = run("user", "add", "--name", "Till Admin", "--email", "till@example.com", "--role", "admin");
  expect(added.code).toBe(0);
  expect(added.out).toMatch(/token \(shown only now\): brt_[\w-]{43}/);
  const list = run("user", "list");
  expect(list.out).toContain("till@example.com");
  expect(list.out).toContain("admin");
  const token = run("user", "token", "--email", "till@example.com");
  expect(token.code).toBe(0);
  expect(token.out).toMatch(/brt_/);
});

test("mistakes exit non-zero with one line on stderr", () => {
  run("user", "add", "--name", "A", "--email", "a@example.com");
  const duplicate = run("user", "add", "--name", "A", "--email", "a@example.com");
  expect(duplicate.code).toBe(1);
  expect(duplicate.err).toBe("backroom: already exists (users.email)\n");
  const invalid = run("user", "add", "--name", "B", "--email", "not-an-email");
  expect(invalid.code).toBe(1);
  expect(invalid.err).toContain("email");
  expect(run("user", "token", "--email", "nobody@example.com").err).toContain("no user with e-mail nobody@example.com");
  for (const args of [["frobnicate"], ["serve", "--port", "eighty"], ["serve", "--sync", "sometimes"], ["serve", "--bogus"], ["user"], ["user", "add", "--email", "x@y.z"]]) {
    const r = run(...args);
    expect([args.join(" "), r.code]).toEqual([args.join(" "), 2]);
    expect(r.err.trim().split("\n").length).toBe(1);
    expect(r.err).toStartWith("backroom: ");
  }
  expect(run("--version").out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  expect(run("--help").out).toContain("Usage: backroom <command>");
  expect(run("user", "--help").out).toContain("backroom user add");
  expect(run("jobs", "--help").out).toContain("--older-than-days");
});

test("a database directory that does not exist is a clear error", () => {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", "user", "list", "--db", tmp.file("no/such/dir/x.db")], { stdout: "pipe", stderr: "pipe" });
  expect(r.exitCode).toBe(1);
  expect(r.stderr.toString()).toContain("does not exist");
});
