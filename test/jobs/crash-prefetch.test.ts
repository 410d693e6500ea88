// A crash spends only attempts whose handler started. The worker claims many jobs ahead of
// its free slots; before, each kill -9 counted a failed attempt against every one of them, and
// a few kills made jobs dead whose handler never ran (receipts lost on a till with a flaky
// power supply). Here a worker with two slots and maxRetry 2 is killed five times part-way,
// each time with both slots stuck in a handler and the jobs it claimed ahead waiting.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { runsIn } from "./run-log.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

const JOBS = 2_000;
const KILLS = 5;
const SCRIPT = "test/jobs/fixtures/crash-worker.ts";
let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren();
  tmp.remove();
});


test("kill -9 of a worker holding jobs claimed ahead spends no attempt of a job whose handler never started", async () => {
  const path = tmp.file("till.db");
  const runLog = tmp.file("runs.log");
  let caughtAhead = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    // Two slots, maxRetry 2, both slots stuck after the first 100 + 50k handler runs.
    const child = spawnBun(SCRIPT, [path, runLog, String(JOBS), "2", "2", String(100 + 50 * kill)]);
    await child.waitForLine(/^holding$/, 30_000);
    const watcher = openDatabase(path, { readonly: true, migrations: jobsMigrations });
    try {
      const running = watcher.sqlite.query("SELECT id FROM jobs WHERE status = 'running'");
      // With both slots stuck the worker still claims ahead (at least its prefetch of two);
      // wait until that claim is in the file, so every kill catches jobs claimed ahead.
      const unstarted = () => (running.all() as { id: string }[]).filter((r) => !runsIn(runLog).has(r.id)).length;
      await waitFor(() => unstarted() >= 2, 30_000, "jobs claimed ahead while both slots are stuck");
      child.proc.kill("SIGKILL");
      await child.proc.exited;
      // Read after the kill: what the file holds now is what the next process finds.
      const started = runsIn(runLog);
      const neverStarted = (running.all() as { id: string }[]).filter((r) => !started.has(r.id));
      caughtAhead += neverStarted.length;
      const attempts = watcher.sqlite.query("SELECT attempts FROM jobs WHERE id = ?");
      for (const { id } of neverStarted) expect((attempts.get(id) as { attempts: number }).attempts).toBe(0);
    } finally {
      watcher.close();
    }
  }
  expect(caughtAhead).toBeGreaterThanOrEqual(KILLS * 2); // the kills really caught jobs claimed ahead

  const last = spawnBun(SCRIPT, [path, runLog, String(JOBS), "2", "2"]);
  await last.waitForLine(/^done$/, 60_000);
  expect(await last.proc.exited).toBe(0);

  const db = openDatabase(path, { readonly: true, migrations: jobsMigrations });
  const final = db.sqlite.query("SELECT status, count(*) AS n FROM jobs GROUP BY status").all();
  db.close();
  // maxRetry is 2 and there were 5 kills: before the fix, jobs claimed ahead in two of them died unrun.
  expect(final).toEqual([{ status: "succeeded", n: JOBS }]);
  const runs = runsIn(runLog);
  expect(runs.size).toBe(JOBS);
  for (const attempts of runs.values()) {
    expect(attempts[0]).toBe(1); // a job's first run is its first attempt, however many kills it sat through
    expect(attempts.every((a, i) => i === 0 || a >= attempts[i - 1]!)).toBe(true);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(2);
  }
});
