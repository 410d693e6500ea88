// Every hot statement is served by the index its comment names: no table scans, no sort step.
import { expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { SQL } from "../../src/jobs/sqlite-schema.ts";

const db = openDatabase(":memory:", { migrations: jobsMigrations });
const plan = (sql: string) => (db.sqlite.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(" | ");

test("the claim walks one queue's range of jobs_available in order and probes group holds through jobs_active", () => {
  for (const p of [plan(SQL.selectCandidates), plan(SQL.selectCandidatesToMerge)]) {
    expect(p).toContain("SEARCH jobs USING INDEX jobs_available (queue=?)");
    expect(p).toContain("SEARCH holder USING COVERING INDEX jobs_active (status=? AND group_key=?)");
    expect(p).not.toContain("TEMP B-TREE");
  }
});

test("lease rescue, next-due and unique-key lookups use their partial indexes", () => {
  expect(plan(SQL.takeExpired)).toBe("SEARCH jobs USING INDEX jobs_active (status=?)");
  expect(plan(SQL.releaseExpiredUnstarted)).toBe("SEARCH jobs USING INDEX jobs_active (status=?)");
  expect(plan(SQL.nextDueAt)).toContain("SEARCH jobs USING INDEX jobs_available (queue=? AND priority=? AND run_at>?)");
  expect(plan(SQL.nextDueAt)).not.toMatch(/SCAN jobs/);
  expect(plan(SQL.findUnfinishedByUniqueKey)).toBe("SEARCH jobs USING INDEX jobs_unique (unique_key=?)");
  expect(plan(SQL.unparkNext)).toContain("SEARCH jobs USING INDEX jobs_parked (group_key=?)");
  expect(plan(SQL.unparkAll)).toBe("SCAN jobs USING INDEX jobs_parked");
});

test("every per-job transition is a primary-key lookup", () => {
  expect(plan(SQL.markSucceededTogether)).toMatch(/^SEARCH jobs USING (COVERING )?INDEX sqlite_autoindex_jobs_1 \(id=\?\) \| LIST SUBQUERY/);
  expect(plan(SQL.markRunning)).toMatch(/^SEARCH jobs USING (COVERING )?INDEX sqlite_autoindex_jobs_1 \(id=\?\) \| LIST SUBQUERY/);
  for (const name of ["park", "markSucceeded", "markFailed", "markDead", "markReleased", "extendLease", "cancel", "state"] as const) {
    expect(plan(SQL[name])).toMatch(/^SEARCH jobs USING (INDEX sqlite_autoindex_jobs_1|PRIMARY KEY) \(id=\?\)$/);
  }
});

test("the forwarding outbox is read in claim order through jobs_available and emptied by primary key", () => {
  const p = plan(SQL.outbox);
  expect(p).toBe("SCAN jobs USING INDEX jobs_available");
  expect(plan(SQL.removeForwarded)).toMatch(/^SEARCH jobs USING (INDEX sqlite_autoindex_jobs_1|PRIMARY KEY) \(id=\?\)$/);
});

test("the open queues are found by a skip-scan of jobs_available, one seek per queue, each one's pause by primary key", () => {
  const p = plan(SQL.waitingQueues);
  expect(p).toContain("SEARCH jobs USING INDEX jobs_available (queue>?)");
  expect(p).toContain("SEARCH job_queues USING PRIMARY KEY (name=?)");
  expect(p).not.toMatch(/SCAN jobs(?! USING INDEX jobs_available)/);
  expect(p).not.toContain("TEMP B-TREE");
});

test("the queues page reads only the partial indexes of unfinished, dead and cancelled jobs, and the kept succeeded counts", () => {
  const p = plan(SQL.queueCounts);
  for (const index of ["jobs_available", "jobs_parked", "jobs_active", "jobs_troubled"]) expect(p).toContain(`USING INDEX ${index}`);
  expect(p).toContain("SCAN job_queue_succeeded");
  // Every read of jobs goes through a partial index: never a scan of the (millions of) succeeded rows.
  expect(p.split(" | ").filter((step) => /jobs\b/.test(step) && !/job_queue/.test(step)).every((step) => /USING INDEX jobs_(available|parked|active|troubled)/.test(step))).toBe(true);
  expect(plan(SQL.deleteFinished)).toMatch(/^SEARCH jobs USING (INDEX sqlite_autoindex_jobs_1|PRIMARY KEY) \(id=\?\)$/);
});

test("a listing of dead/cancelled or running jobs reads the partial index of those states, with the view's columns", () => {
  expect(plan(`SELECT * FROM ${SQL.troubledStatuses} WHERE status IN ('dead', 'cancelled') AND queue = ? ORDER BY created_at DESC, id DESC LIMIT 10`)).toMatch(/^SEARCH jobs USING INDEX jobs_troubled \(status=\?\)/);
  expect(plan(`SELECT * FROM ${SQL.runningStatuses} WHERE status IN ('running', 'failed') AND status = 'running' ORDER BY id LIMIT 10`)).toMatch(/^SEARCH jobs USING INDEX jobs_active \(status=\?\)/);
  const columns = (sql: string) => db.sqlite.query(sql).columnNames;
  expect(columns("SELECT * FROM job_statuses")).toContain("queue");
  expect(columns(`SELECT * FROM ${SQL.troubledStatuses}`)).toEqual(columns("SELECT * FROM job_statuses"));
  expect(columns(`SELECT * FROM ${SQL.runningStatuses}`)).toEqual(columns("SELECT * FROM job_statuses"));
});
