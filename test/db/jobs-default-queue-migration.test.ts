// jobs v5 stores the default queue as '' instead of 'default' (src/jobs/sqlite-schema.ts).
// A file at jobs v4 with jobs in several queues and every state upgrades in place: no job is
// lost or changed but for the stored form of its queue, every read answers the queue's name,
// the counts, pauses and listings by queue are as before, and the claim finds every queue's jobs.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { jobsMigrations, SqliteQueue } from "../../src/jobs/sqlite.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

const NOW = Date.now();
// id, queue, status and the columns that state sets; J04 runs for an owner that is gone and
// holds group "g", behind which J10 is parked.
const JOBS: ({ id: string; queue: string; status: string } & Record<string, string | number>)[] = [
  { id: "J01", queue: "default", status: "enqueued" },
  { id: "J02", queue: "default", status: "succeeded", attempts: 1, completed_at: NOW - 50 },
  { id: "J03", queue: "default", status: "failed", attempts: 1, error: "timeout", attempts_log: '[{"attempt":1}]' },
  { id: "J04", queue: "default", status: "running", attempts: 1, group_key: "g", claimed_by: "gone", lease_expires_at: NOW + 60_000 },
  { id: "J05", queue: "mail", status: "enqueued" },
  { id: "J06", queue: "mail", status: "dead", attempts: 3, error: "smtp down", completed_at: NOW - 40 },
  { id: "J07", queue: "mail", status: "succeeded", attempts: 1, completed_at: NOW - 30 },
  { id: "J08", queue: "reports", status: "enqueued" },
  { id: "J09", queue: "default", status: "cancelled", completed_at: NOW - 20 },
  { id: "J10", queue: "default", status: "enqueued", group_key: "g", parked: 1 },
];

/** A file at jobs v4 (before the default queue's stored form changed), with JOBS, counts and a pause. */
function v4File(): string {
  const path = tmp.file("jobs-v4.db");
  const db = openDatabase(path, { migrations: jobsMigrations.filter((m) => m.version <= 4) });
  for (const [i, job] of JOBS.entries()) {
    const row: Record<string, string | number> = { type: "noop", payload: `{"n":${i}}`, max_retry: 3, run_at: NOW - 1000 + i, created_at: NOW - 1000 + i, updated_at: NOW - 900 + i, ...job };
    const names = Object.keys(row);
    db.sqlite.query(`INSERT INTO jobs (${names.join(", ")}) VALUES (${names.map(() => "?").join(", ")})`).run(...Object.values(row));
  }
  db.sqlite.run("INSERT INTO job_queue_succeeded (queue, n) VALUES ('default', 1), ('mail', 1)");
  db.sqlite.run("INSERT INTO job_queues (name, paused, updated_at) VALUES ('reports', 1, 0), ('default', 0, 0)");
  db.close();
  return path;
}

const everyColumnButQueue = (db: ReturnType<typeof openDatabase>) => {
  const columns = (db.sqlite.query("SELECT name FROM pragma_table_info('jobs') WHERE name <> 'queue'").all() as { name: string }[]).map((c) => c.name);
  return db.sqlite.query(`SELECT ${columns.join(", ")} FROM jobs ORDER BY id`).all();
};

test("a jobs v4 file upgrades in place: every job kept, the default queue stored as '' and read as 'default'", () => {
  const path = v4File();
  const before = openDatabase(path);
  const rowsBefore = everyColumnButQueue(before);
  before.close();

  const db = openDatabase(path, { migrations: jobsMigrations });
  try {
    expect(db.sqlite.query("SELECT max(version) AS v FROM backroom_schema WHERE component = 'jobs'").get()).toEqual({ v: 5 });
    expect(db.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
    // Nothing lost, nothing changed but the queue's stored form (updated_at included: it is the outbox's row version).
    expect(everyColumnButQueue(db)).toEqual(rowsBefore);
    const stored = db.sqlite.query("SELECT id, queue FROM jobs ORDER BY id").all() as { id: string; queue: string }[];
    expect(stored).toEqual(JOBS.map((j) => ({ id: j.id, queue: j.queue === "default" ? "" : j.queue })));
    // Every read answers the name.
    const named = db.sqlite.query("SELECT id, queue FROM job_statuses ORDER BY id").all();
    expect(named).toEqual(JOBS.map((j) => ({ id: j.id, queue: j.queue })));
    const queue = new SqliteQueue(db);
    expect(queue.getStatus("J03")?.queue).toBe("default");
    expect(queue.getStatus("J05")?.queue).toBe("mail");
    expect(queue.getStatusRecord("J06")?.queue).toBe("mail");
    expect(queue.getStatusRecord("J09")?.queue).toBe("default");
    expect(queue.getStatus("J03")?.attemptsHistory.length).toBeGreaterThan(0);

    // Counts and pauses by queue name, the succeeded ones from the kept counts.
    const counts = (name: string) => queue.queueStates().find((q) => q.name === name);
    expect(queue.queueStates().map((q) => q.name)).toEqual(["default", "mail", "reports"]);
    expect(counts("default")).toEqual({ name: "default", paused: false, counts: { enqueued: 2, running: 1, succeeded: 1, failed: 1, dead: 0, cancelled: 1 } });
    expect(counts("mail")).toEqual({ name: "mail", paused: false, counts: { enqueued: 1, running: 0, succeeded: 1, failed: 0, dead: 1, cancelled: 0 } });
    expect(counts("reports")).toEqual({ name: "reports", paused: true, counts: { enqueued: 1, running: 0, succeeded: 0, failed: 0, dead: 0, cancelled: 0 } });

    // Listings filter by the name, through the table and through the partial indexes of dead/cancelled and running jobs.
    const list = (where: { field: string; op: "eq" | "in"; value: string | string[] }[][]) =>
      queue.listStatuses({ where, sort: [], limit: 50, offset: 0 }).rows.map((r) => [r.id, r.queue]);
    expect(list([[{ field: "queue", op: "eq", value: "default" }]])).toEqual([["J01", "default"], ["J02", "default"], ["J03", "default"], ["J04", "default"], ["J09", "default"], ["J10", "default"]]);
    expect(list([[{ field: "status", op: "in", value: ["dead", "cancelled"] }]])).toEqual([["J06", "mail"], ["J09", "default"]]);
    expect(list([[{ field: "status", op: "in", value: ["dead", "cancelled"] }], [{ field: "queue", op: "eq", value: "default" }]])).toEqual([["J09", "default"]]);
    expect(list([[{ field: "status", op: "eq", value: "running" }]])).toEqual([["J04", "default"]]);
  } finally {
    db.close();
  }
});

test("after the upgrade the claim takes the due jobs of every open queue, by name; new jobs of the default queue join them", async () => {
  const db = openDatabase(v4File(), { migrations: jobsMigrations });
  try {
    const queue = new SqliteQueue(db);
    const fresh = queue.enqueue({ type: "noop", payload: {} });
    expect(db.sqlite.query("SELECT queue FROM jobs WHERE id = ?").get(fresh)).toEqual({ queue: "" });
    // The default queue's waiting, retrying and new jobs, mail's job; not the paused reports' job, not J10 (its key is held by J04).
    const { claimed } = await queue.settleAndClaim([], 10, 30_000);
    expect(claimed.map((j) => [j.id, j.queue]).sort()).toEqual([["J01", "default"], ["J03", "default"], ["J05", "mail"], [fresh, "default"]].sort());
    expect(queue.nextDueAt(0)).toBeNull(); // nothing else is waiting in an open queue
    // The run left by a gone owner comes back by its queue's name.
    expect(queue.takeExpired(30_000).map((j) => [j.id, j.queue])).toEqual([["J04", "default"]]);
    // Settles count by name: two successes in the default queue, one in mail.
    const at = Date.now();
    const outcomes = claimed.map((job) => ({ kind: "succeeded" as const, job, result: {}, at }));
    await queue.settleAndClaim(outcomes, 0, 30_000);
    const succeeded = () => Object.fromEntries(queue.queueStates().map((q) => [q.name, q.counts.succeeded]));
    expect(succeeded()).toEqual({ default: 4, mail: 2, reports: 0 });
    // A deleted success comes off its queue's count.
    expect(queue.delete("J02")).toBe("deleted");
    expect(succeeded()).toEqual({ default: 3, mail: 2, reports: 0 });
    // Resumed, the paused queue's job is claimed.
    queue.setQueuePaused("reports", false);
    expect((await queue.settleAndClaim([], 10, 30_000)).claimed.map((j) => [j.id, j.queue])).toEqual([["J08", "reports"]]);
    // Paused by its name, the default queue's jobs wait; resumed, they are claimed.
    queue.setQueuePaused("default", true);
    const waiting = queue.enqueue({ type: "noop", payload: {} });
    expect((await queue.settleAndClaim([], 10, 30_000)).claimed).toEqual([]);
    expect(queue.queueStates().find((q) => q.name === "default")?.paused).toBe(true);
    queue.setQueuePaused("default", false);
    expect((await queue.settleAndClaim([], 10, 30_000)).claimed.map((j) => [j.id, j.queue])).toEqual([[waiting, "default"]]);
  } finally {
    db.close();
  }
});
