// kill -9 in the middle of processing, then a new process on the same file: every job ends
// succeeded, none is lost, and only jobs that were running at the kill ran twice.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { openDatabase } from "../../src/db/index.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { runsIn } from "./run-log.ts";
import { waitFor } from "../support/wait.ts";

const JOBS = 3_000;
const SCRIPT = "test/jobs/fixtures/crash-worker.ts";
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren(); // a worker left by a failed assertion would hold the file
  tmp.remove();
});

test("a worker killed with SIGKILL part-way loses no job, and reruns only those it was running", async () => {
  const path = tmp.file("shop.db");
  const runLog = tmp.file("runs.log");

  const first = spawnBun(SCRIPT, [path, runLog, String(JOBS)]);
  await first.waitForLine(/^enqueued/, 30_000);
  // Watch progress through a read-only connection (allowed while the worker owns the file).
  const watcher = openDatabase(path, { readonly: true, migrations: jobsMigrations });
  const succeeded = watcher.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'");
  await waitFor(() => (succeeded.get() as { n: number }).n >= JOBS / 3, 30_000, "a third of the jobs to succeed");
  first.proc.kill("SIGKILL");
  await first.proc.exited;

  const atKill = watcher.sqlite.query("SELECT id, status FROM jobs").all() as { id: string; status: string }[];
  watcher.close();
  const runningAtKill = new Set(atKill.filter((r) => r.status === "running").map((r) => r.id));
  const doneAtKill = atKill.filter((r) => r.status === "succeeded").length;
  expect(atKill.length).toBe(JOBS);
  expect(doneAtKill).toBeLessThan(JOBS); // it really died part-way

  const second = spawnBun(SCRIPT, [path, runLog, String(JOBS)]);
  await second.waitForLine(/^done$/, 60_000);
  expect(await second.proc.exited).toBe(0);

  const db = openDatabase(path, { readonly: true, migrations: jobsMigrations });
  const final = db.sqlite.query("SELECT status, count(*) AS n FROM jobs GROUP BY status").all();
  db.close();
  expect(final).toEqual([{ status: "succeeded", n: JOBS }]);

  expect(existsSync(runLog)).toBe(true);
  const runs = runsIn(runLog);
  expect(runs.size).toBe(JOBS);
  const ranTwice = [...runs].filter(([, attempts]) => attempts.length > 1);
  for (const [id, attempts] of ranTwice) {
    expect(runningAtKill.has(id)).toBe(true);
    // 2 when the first run's start was written before the kill; 1 when the kill came first
    // (a start is written with the next batch, a few ms later): that run spent nothing.
    expect([[1, 2], [1, 1]]).toContainEqual(attempts);
  }
  expect(ranTwice.length).toBeLessThanOrEqual(runningAtKill.size);
});
