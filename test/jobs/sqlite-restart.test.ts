// What a restart must get right: jobs left running by a dead owner, group holds, delays.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

const open = () => {
  const db = openDatabase(tmp.file("shop.db"), { migrations: jobsMigrations });
  return { db, queue: new SqliteQueue(db) };
};

test("jobs a previous owner left running are rescued at start-up without waiting for their lease", async () => {
  const first = open();
  const id = first.queue.enqueue({ type: "t" });
  await first.queue.settleAndClaim([], 1, 3_600_000); // claimed with an hour-long lease, then the owner "dies"
  first.db.close();

  const second = open();
  const runs: number[] = [];
  const worker = new Worker({ source: second.queue, handlers: { t: (job) => void runs.push(job.attempt) }, logger: silentLogger, backoff: { baseMs: 1, jitter: 0 } });
  worker.start();
  const deadline = Date.now() + 5_000;
  while (second.queue.getStatus(id)?.status !== "succeeded" && Date.now() < deadline) await Bun.sleep(5);
  await worker.shutdown();
  expect(second.queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 2 });
  expect(runs).toEqual([2]);
  second.db.close();
});

test("a group key held by a job waiting for its retry is still held after a restart", async () => {
  const first = open();
  const a1 = first.queue.enqueue({ type: "t", groupKey: "store-1" });
  const a2 = first.queue.enqueue({ type: "t", groupKey: "store-1" });
  const [job] = (await first.queue.settleAndClaim([], 5, 30_000)).claimed;
  await first.queue.settleAndClaim([{ kind: "failed", job: job!, error: "e", retryAt: Date.now() + 60_000, at: Date.now() }], 0, 30_000);
  first.db.close();

  const second = open();
  expect((await second.queue.settleAndClaim([], 5, 30_000)).claimed).toEqual([]);
  expect(second.queue.getStatus(a1)?.status).toBe("failed");
  expect(second.queue.getStatus(a2)?.status).toBe("enqueued");
  second.db.close();
});

test("a delayed job survives a restart and keeps its time", () => {
  const first = open();
  const at = Date.now() + 3_600_000;
  const id = first.queue.enqueueAt(at, { type: "report" });
  first.db.close();
  const second = open();
  expect(second.queue.getStatus(id)).toMatchObject({ status: "enqueued", runAt: at });
  expect(second.queue.nextDueAt(Date.now())).toBe(at);
  second.db.close();
});

test("jobs parked behind a busy group key are all carried out, in order, after a crash and restart", async () => {
  const first = open();
  const ids = first.queue.enqueueMany(Array.from({ length: 6 }, (_, n) => ({ type: "t", groupKey: "store-1", payload: n })));
  expect((await first.queue.settleAndClaim([], 4, 30_000)).claimed.map((j) => j.id)).toEqual([ids[0]!]); // the rest parked
  first.db.close(); // dies while holding the key

  const second = open();
  const order: unknown[] = [];
  const worker = new Worker({ source: second.queue, handlers: { t: (job) => void order.push(job.payload) }, logger: silentLogger, backoff: { baseMs: 1, jitter: 0 } });
  worker.start();
  const deadline = Date.now() + 5_000;
  while (order.length < 6 && Date.now() < deadline) await Bun.sleep(5);
  await worker.shutdown();
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  expect(ids.map((id) => second.queue.getStatus(id)?.status)).toEqual(ids.map(() => "succeeded"));
  second.db.close();
});

test("a pause or resume written to the file by another connection holds for the next claim (nothing is cached)", async () => {
  const app = open();
  const other = new Database(tmp.file("shop.db"));
  const setPaused = (paused: number) => other.run("INSERT INTO job_queues (name, paused, updated_at) VALUES ('mail', ?1, 0) ON CONFLICT (name) DO UPDATE SET paused = ?1", [paused]);
  try {
    app.queue.enqueue({ type: "t", queue: "mail" });
    app.queue.enqueue({ type: "t", queue: "mail" });
    expect((await app.queue.settleAndClaim([], 1, 30_000)).claimed.map((j) => j.queue)).toEqual(["mail"]);
    setPaused(1);
    expect((await app.queue.settleAndClaim([], 1, 30_000)).claimed).toEqual([]);
    setPaused(0);
    expect((await app.queue.settleAndClaim([], 1, 30_000)).claimed.map((j) => j.queue)).toEqual(["mail"]);
  } finally {
    other.close();
    app.db.close();
  }
});
