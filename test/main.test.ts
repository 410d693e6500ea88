// The start command: the demo really places orders and carries out their jobs on a file.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { openDatabase } from "../src/db/index.ts";
import { tempDir } from "./support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

const run = (...args: string[]) => Bun.spawnSync([process.execPath, "src/main.ts", ...args], { stdout: "pipe", stderr: "pipe" });

test("the demo commits orders with their jobs and finishes every job: receipts in the outbox, a retry, a dead letter", () => {
  const db = tmp.file("demo.db");
  const result = run("--db", db, "--outbox", tmp.file("outbox"));
  expect(result.exitCode).toBe(0);
  const out = result.stdout.toString();
  expect(out).toContain("order 3 placed");
  expect(out).toMatch(/sync_inventory failed .* head office unreachable/);
  expect(out).toContain("all demo jobs finished");
  expect(readdirSync(tmp.file("outbox")).filter((f) => f.endsWith(".eml")).length).toBe(3);

  const reader = openDatabase(db, { readonly: true });
  const rows = reader.sqlite.query("SELECT type, status, count(*) AS n FROM job_statuses GROUP BY type, status ORDER BY type, status").all();
  reader.close();
  expect(rows).toEqual([
    { type: "alert_operator", status: "succeeded", n: 1 },
    { type: "daily_report", status: "succeeded", n: 1 },
    { type: "print_label", status: "dead", n: 1 },
    { type: "send_receipt", status: "succeeded", n: 3 },
    { type: "sync_inventory", status: "succeeded", n: 3 },
  ]);
});

test("bad arguments exit non-zero with a one-line message", () => {
  const unknown = run("--bogus");
  expect(unknown.exitCode).toBe(1);
  expect(unknown.stderr.toString()).toBe('backroom: unknown argument "--bogus" (see --help)\n');
  const badSync = run("--sync", "sometimes");
  expect(badSync.exitCode).toBe(1);
  expect(badSync.stderr.toString()).toContain("--sync must be full or normal");
  const missingDir = run("--db", tmp.file("no/such/dir/x.db"));
  expect(missingDir.exitCode).toBe(1);
  expect(missingDir.stderr.toString()).toContain("does not exist");
});
