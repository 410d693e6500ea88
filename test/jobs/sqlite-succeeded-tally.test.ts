// The kept succeeded counts (src/jobs/succeeded-tally.ts): written in batches under a backlog,
// yet exact for the owner at any moment, caught up when the backlog drains, and recounted at
// the next start when the process died with some of them only in memory.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import type { Job } from "../../src/jobs/types.ts";
import type { Outcome } from "../../src/jobs/queue.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

const LEASE = 30_000;
const clock = new ManualClock();
const open = () => {
  const db = openDatabase(tmp.file("shop.db"), { migrations: jobsMigrations });
  return { db, queue: new SqliteQueue(db, { clock }) };
};
const succeed = (jobs: readonly Job[]): Outcome[] => jobs.map((job) => ({ kind: "succeeded", job, result: {}, at: clock.now() }));
const succeededIn = (queue: SqliteQueue, name: string) => queue.queueStates().find((q) => q.name === name)?.counts.succeeded;

/** What another process reading the file sees: the kept count and the mark. */
function inFile(): { n: number | null; behind: number } {
  const reader = new Database(tmp.file("shop.db"), { readonly: true });
  try {
    const n = (reader.query("SELECT n FROM job_queue_succeeded WHERE queue = 'mail'").get() as { n: number } | null)?.n ?? null;
    const { behind } = reader.query("SELECT behind FROM job_queue_succeeded_behind").get() as { behind: number };
    return { n, behind };
  } finally {
    reader.close();
  }
}

/** Seven mail jobs, six worked through in claims that each take all they may: a backlog throughout. */
async function backlog(queue: SqliteQueue): Promise<Job[]> {
  queue.enqueueMany(Array.from({ length: 7 }, () => ({ type: "t", queue: "mail" })));
  const first = (await queue.settleAndClaim([], 2, LEASE)).claimed;
  const second = (await queue.settleAndClaim(succeed(first), 2, LEASE)).claimed; // first write: 2, marked behind
  expect(inFile()).toEqual({ n: 2, behind: 1 });
  const third = (await queue.settleAndClaim(succeed(second), 2, LEASE)).claimed; // within the second: kept in memory
  expect(third).toHaveLength(2);
  return third;
}

test("under a backlog the file's count waits (marked behind) while the owner's is exact; the drain writes it all and clears the mark", async () => {
  const { db, queue } = open();
  const last = await backlog(queue);
  expect(inFile()).toEqual({ n: 2, behind: 1 });
  expect(succeededIn(queue, "mail")).toBe(4);
  clock.advance(1_000); // a second on: the next settle writes what waited, still behind
  const none = await queue.settleAndClaim(succeed(last.slice(0, 1)), 1, LEASE);
  expect(none.claimed).toHaveLength(1);
  expect(inFile()).toEqual({ n: 5, behind: 1 });
  await queue.settleAndClaim(succeed([last[1]!, ...none.claimed]), 4, LEASE); // nothing left to claim: drained
  expect(inFile()).toEqual({ n: 7, behind: 0 });
  expect(succeededIn(queue, "mail")).toBe(7);
  expect(queue.delete(last[0]!.id)).toBe("deleted");
  expect(inFile()).toEqual({ n: 6, behind: 0 });
  expect(succeededIn(queue, "mail")).toBe(6);
  db.close();
});

test("a process that dies with successes only in memory: the next start counts them from the rows", async () => {
  const first = open();
  await backlog(first.queue);
  expect(succeededIn(first.queue, "mail")).toBe(4);
  first.db.close(); // no drain, no final write: what a kill -9 leaves in the file
  expect(inFile()).toEqual({ n: 2, behind: 1 });

  const second = open();
  expect(inFile()).toEqual({ n: 4, behind: 0 });
  expect(succeededIn(second.queue, "mail")).toBe(4);
  second.db.close();
});
