// One suite every queue adapter must pass (River's riverdrivertest is the model). Each
// adapter's test file calls `queueConformance` with a factory for a fresh, empty queue.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { MAX_REQUEUES, type Cancellable, type Deletable, type Outcome, type Queue, type QueueControl, type Retryable, type Source, type StatusReader } from "../../src/jobs/queue.ts";
import { InvalidJobError } from "../../src/jobs/new-job.ts";
import { keyOf, type Condition, type ListQuery, type Scalar } from "../../src/db/list-query.ts";
import type { Job, NewJob } from "../../src/jobs/types.ts";

export type TestQueue = Queue & Source & Cancellable & Retryable & StatusReader & Deletable & QueueControl;
export interface QueueFixture {
  queue: TestQueue;
  close(): void | Promise<void>;
  /** Durable engines: the same store opened again by a new queue instance (a restart). */
  reopen?(): Promise<TestQueue>;
  /**
   * Engines with transactional enqueue: enqueues `job` inside one of the engine's own
   * transactions, then commits it or rolls it back; resolves with the id enqueue answered.
   */
  enqueueInTransaction?(job: NewJob, end: "commit" | "rollback"): Promise<string>;
}
export type QueueFactory = (clock: ManualClock) => QueueFixture | Promise<QueueFixture>;
/** What an engine offers beyond the common suite; declared so a missing feature shows in the test names. */
export interface QueueFeatures {
  transactionalEnqueue: boolean;
  /** State survives a restart: the fixture can `reopen` the store (memory cannot). */
  durable: boolean;
}

const LEASE = 30_000;

/** Polls a condition the queue reaches by itself (a wake-up through another connection). */
async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await Bun.sleep(2);
  }
}

export function queueConformance(name: string, factory: QueueFactory, features: QueueFeatures): void {
  describe(`${name} queue conformance`, () => {
    let clock: ManualClock;
    let fixture: QueueFixture;
    let queue: TestQueue;
    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await factory(clock);
      queue = fixture.queue;
    });
    afterEach(() => fixture.close());

    const claim = async (max = 10, leaseMs = LEASE): Promise<Job[]> => (await queue.settleAndClaim([], max, leaseMs)).claimed;
    const settle = async (...outcomes: Outcome[]) => (await queue.settleAndClaim(outcomes, 0, LEASE)).applied;
    const succeed = (job: Job, output?: unknown): Outcome => ({ kind: "succeeded", job, result: { output }, at: clock.now() });
    const status = async (id: string) => (await queue.getStatus(id))?.status;

    test("an enqueued job has a status row at once, with every field it was given", async () => {
      const id = await queue.enqueue({
        type: "send_receipt", payload: { order_id: "o1" }, actorId: "u1", tenantId: "t1", groupKey: "g", traceId: "00-abc-def-01", priority: 2,
      });
      expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      const state = await queue.getStatus(id);
      expect(state).toMatchObject({
        id, type: "send_receipt", status: "enqueued", payload: { order_id: "o1" }, actorId: "u1", tenantId: "t1", groupKey: "g",
        traceId: "00-abc-def-01", priority: 2, attempts: 0, maxRetry: 3, error: null, startedAt: null, completedAt: null,
        createdAt: clock.now(), updatedAt: clock.now(),
      });
    });

    test("bad input is refused with a clear error and nothing is stored", async () => {
      const refused = async (fn: () => unknown): Promise<Error> => {
        try {
          await fn();
        } catch (error) {
          return error as Error;
        }
        throw new Error("expected the enqueue to be refused");
      };
      expect(await refused(() => queue.enqueue({ type: "" }))).toBeInstanceOf(InvalidJobError);
      expect((await refused(() => queue.enqueue({ type: "x", maxRetry: 0 }))).message).toMatch(/maxRetry/);
      expect((await refused(() => queue.enqueue({ type: "x", payload: { n: 1n } }))).message).toMatch(/payload/);
      expect((await refused(() => queue.enqueue({ type: "x", notBefore: Number.NaN }))).message).toMatch(/notBefore/);
      expect(await refused(() => queue.enqueueMany([{ type: "ok" }, { type: "" }]))).toBeInstanceOf(InvalidJobError);
      expect(await claim()).toEqual([]);
      expect(await queue.nextDueAt(clock.now())).toBeNull();
    });

    test("enqueueMany stores all jobs in order", async () => {
      const ids = await queue.enqueueMany([{ type: "a" }, { type: "b" }, { type: "c" }]);
      expect((await claim()).map((j) => j.id)).toEqual(ids);
    });

    test("a delayed job is not claimed before its time, and nextDueAt says when", async () => {
      const at = clock.now() + 60_000;
      const id = await queue.enqueueAt(at, { type: "later" });
      expect(await claim()).toEqual([]);
      expect(await queue.nextDueAt(clock.now())).toBe(at);
      clock.advance(60_000);
      expect((await claim()).map((j) => j.id)).toEqual([id]);
    });

    test("nextDueAt is the earliest future time across all priorities, ignoring due and finished jobs", async () => {
      const now = clock.now();
      await queue.enqueueAt(now + 5_000, { type: "t", priority: 9 });
      await queue.enqueueAt(now + 3_000, { type: "t", priority: -2 });
      await queue.enqueueAt(now + 4_000, { type: "t" });
      await queue.enqueue({ type: "t", priority: 1 }); // due now: not "next"
      expect(await queue.nextDueAt(clock.now())).toBe(now + 3_000);
      clock.advance(3_000);
      await claim();
      expect(await queue.nextDueAt(clock.now())).toBe(now + 4_000);
    });

    test("higher priority runs first; equal priority runs first in, first out", async () => {
      const low1 = await queue.enqueue({ type: "t" });
      const high = await queue.enqueue({ type: "t", priority: 5 });
      const low2 = await queue.enqueue({ type: "t" });
      expect((await claim()).map((j) => j.id)).toEqual([high, low1, low2]);
    });

    test("claim respects max and marks jobs running with attempt 1", async () => {
      await queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t" }]);
      const first = await claim(2);
      expect(first.map((j) => j.attempt)).toEqual([1, 1]);
      expect(await status(first[0]!.id)).toBe("running");
      expect((await claim(5)).length).toBe(1);
      expect(await claim(5)).toEqual([]);
    });

    test("one running job per group key, first in first out, other keys not held up", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "a" });
      const a2 = await queue.enqueue({ type: "t", groupKey: "a" });
      const b1 = await queue.enqueue({ type: "t", groupKey: "b" });
      const free = await queue.enqueue({ type: "t" });
      const first = await claim();
      expect(first.map((j) => j.id)).toEqual([a1, b1, free]);
      expect(await claim()).toEqual([]);
      await settle(succeed(first[0]!));
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    test("a long backlog of one busy key neither holds up other jobs nor loses its order", async () => {
      const backlog = await queue.enqueueMany(Array.from({ length: 40 }, () => ({ type: "t", groupKey: "store-1" })));
      const others = await queue.enqueueMany([{ type: "t" }, { type: "t", groupKey: "store-2" }]);
      const first = await claim(10);
      expect(first.map((j) => j.id)).toEqual([backlog[0]!, ...others]);
      const order = [first[0]!.id];
      let current = first[0]!;
      for (let i = 1; i < backlog.length; i++) {
        const { claimed } = await queue.settleAndClaim([succeed(current)], 10, LEASE);
        expect(claimed.length).toBe(1);
        current = claimed[0]!;
        order.push(current.id);
      }
      expect(order).toEqual(backlog);
    });

    test("a job waiting for its retry keeps its group key: later jobs of the key never overtake it", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "a" });
      const a2 = await queue.enqueue({ type: "t", groupKey: "a" });
      const [job] = await claim();
      await settle({ kind: "failed", job: job!, error: "smtp down", retryAt: clock.now() + 1_000, at: clock.now() });
      expect(await claim()).toEqual([]);
      clock.advance(1_000);
      const [retry] = await claim();
      expect(retry).toMatchObject({ id: a1, attempt: 2 });
      await settle(succeed(retry!));
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    // A key already running elsewhere: the later job of the key is enqueued only after the
    // first was claimed, so it is never seen in the same claim as its holder (the held-key
    // check itself is exercised, not just the in-batch one).
    test("a job enqueued after its key's running job is not claimed until that job settles", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "k" });
      const [running] = await claim();
      expect(running?.id).toBe(a1);
      const a2 = await queue.enqueue({ type: "t", groupKey: "k" });
      const other = await queue.enqueue({ type: "t", groupKey: "other" });
      expect((await claim()).map((j) => j.id)).toEqual([other]);
      expect(await claim()).toEqual([]);
      clock.advance(5_000);
      expect(await claim()).toEqual([]);
      await settle(succeed(running!));
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    test("a job enqueued while its key's first job awaits a retry waits for that retry to finish", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "k" });
      const [first] = await claim();
      await settle({ kind: "failed", job: first!, error: "smtp down", retryAt: clock.now() + 1_000, at: clock.now() });
      const a2 = await queue.enqueue({ type: "t", groupKey: "k" });
      expect(await claim()).toEqual([]);
      clock.advance(1_000);
      const again = await claim();
      expect(again.map((j) => [j.id, j.attempt])).toEqual([[a1, 2]]);
      expect(await claim()).toEqual([]);
      await settle(succeed(again[0]!));
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    test("a job enqueued while its key's job has a lapsed lease waits: the lapsed job is taken over and settled first", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "k" });
      await claim(10, 1_000);
      const a2 = await queue.enqueue({ type: "t", groupKey: "k" });
      clock.advance(2_000); // the lease lapsed: its worker may be dead, or only stalled and still running it
      expect(await claim()).toEqual([]);
      const taken = await queue.takeExpired(LEASE);
      expect(taken.map((j) => j.id)).toEqual([a1]);
      expect(await claim()).toEqual([]);
      await settle({ kind: "failed", job: taken[0]!, error: "lease expired", retryAt: clock.now() + 1_000, at: clock.now() });
      expect(await claim()).toEqual([]);
      clock.advance(1_000);
      const retry = await claim();
      expect(retry.map((j) => j.id)).toEqual([a1]);
      await settle(succeed(retry[0]!));
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    test("a multi-megabyte payload and output go through unchanged", async () => {
      // 3 MiB of varied text, with characters outside ASCII (JSON escapes and UTF-8 both matter).
      const chunk = Array.from({ length: 1_024 }, (_, i) => String.fromCharCode(32 + (i % 90)) + (i % 97 === 0 ? "é€😀\n\"" : "")).join("");
      const payload = { blob: chunk.repeat(3 * 1_024).slice(0, 3 * 1_024 * 1_024), n: 1 };
      const output = { echo: payload.blob.slice(1) + payload.blob[0], rows: 2 };
      const id = await queue.enqueue({ type: "bulk", payload });
      const [job] = await claim();
      const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b); // no multi-megabyte diff on failure
      expect(job?.id).toBe(id);
      expect(same(job!.payload, payload)).toBe(true);
      expect((await settle(succeed(job!, output))).length).toBe(1);
      const row = await queue.getStatus(id);
      expect(row?.status).toBe("succeeded");
      expect(same(row!.payload, payload)).toBe(true);
      expect(same(row!.output, output)).toBe(true);
    });

    test("success records output and result url, and clears the lease", async () => {
      const id = await queue.enqueue({ type: "report" });
      const [job] = await claim();
      clock.advance(5);
      const applied = await settle({ kind: "succeeded", job: job!, result: { output: { rows: 3 }, url: "file:///r.pdf", mime: "application/pdf" }, at: clock.now() });
      expect(applied.length).toBe(1);
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", output: { rows: 3 }, resultUrl: "file:///r.pdf", resultMime: "application/pdf", completedAt: clock.now(), attempts: 1 });
    });

    test("a failed attempt is retried at its retry time with the next attempt number", async () => {
      const id = await queue.enqueue({ type: "t" });
      const [job] = await claim();
      await settle({ kind: "failed", job: job!, error: "boom", retryAt: clock.now() + 2_000, at: clock.now() });
      expect(await queue.getStatus(id)).toMatchObject({ status: "failed", error: "boom", runAt: clock.now() + 2_000, attempts: 1 });
      expect(await queue.nextDueAt(clock.now())).toBe(clock.now() + 2_000);
      expect(await claim()).toEqual([]);
      clock.advance(2_000);
      expect((await claim())[0]).toMatchObject({ id, attempt: 2 });
    });

    test("a dead job is handed to the dead-letter type with its error and payload", async () => {
      const id = await queue.enqueue({ type: "webhook", payload: { url: "x" }, actorId: "u1" });
      const [job] = await claim();
      await settle({ kind: "dead", job: job!, error: "410 gone", at: clock.now(), deadLetterType: "dlq" });
      expect(await queue.getStatus(id)).toMatchObject({ status: "dead", error: "410 gone", completedAt: clock.now() });
      const [letter] = await claim();
      expect(letter).toMatchObject({ type: "dlq", actorId: "u1", payload: { job_id: id, type: "webhook", payload: { url: "x" }, attempts: 1, error: "410 gone" } });
      await settle({ kind: "dead", job: letter!, error: "dlq handler broke", at: clock.now(), deadLetterType: "dlq" });
      expect(await claim()).toEqual([]); // a dead letter that dies is not dead-lettered again
    });

    test("cancel: enqueued and awaiting-retry jobs yes; running refused; finished and unknown say so", async () => {
      const waiting = await queue.enqueue({ type: "t", notBefore: clock.now() + 10_000 });
      expect(await queue.cancel(waiting)).toBe("cancelled");
      expect(await status(waiting)).toBe("cancelled");
      const retrying = await queue.enqueue({ type: "t" });
      const [r] = await claim();
      await settle({ kind: "failed", job: r!, error: "e", retryAt: clock.now() + 1, at: clock.now() });
      expect(await queue.cancel(retrying)).toBe("cancelled");
      const running = await queue.enqueue({ type: "t" });
      const [job] = await claim();
      expect(await queue.cancel(running)).toBe("running");
      expect(await status(running)).toBe("running");
      await settle(succeed(job!));
      expect(await queue.cancel(running)).toBe("finished");
      expect(await queue.cancel("01ARZ3NDEKTSV4RRFFQ69G5FAV")).toBe("not_found");
      clock.advance(20_000);
      expect(await claim()).toEqual([]);
    });

    test("a cancelled job that held a group key releases it", async () => {
      const a1 = await queue.enqueue({ type: "t", groupKey: "a" });
      const a2 = await queue.enqueue({ type: "t", groupKey: "a" });
      const [job] = await claim();
      await settle({ kind: "failed", job: job!, error: "e", retryAt: clock.now() + 60_000, at: clock.now() });
      await queue.cancel(a1);
      expect((await claim()).map((j) => j.id)).toEqual([a2]);
    });

    test("a unique key returns the unfinished job's id, and is free again once it finishes", async () => {
      const first = await queue.enqueue({ type: "sync", uniqueKey: "inventory" });
      expect(await queue.enqueue({ type: "sync", uniqueKey: "inventory" })).toBe(first);
      const [job] = await claim();
      expect(await queue.enqueue({ type: "sync", uniqueKey: "inventory" })).toBe(first);
      await settle(succeed(job!));
      const second = await queue.enqueue({ type: "sync", uniqueKey: "inventory" });
      expect(second).not.toBe(first);
    });

    test("a lapsed lease is taken over once; a renewed lease is not", async () => {
      const lapsing = await queue.enqueue({ type: "t" });
      const renewed = await queue.enqueue({ type: "t" });
      await queue.settleAndClaim([], 2, 1_000);
      clock.advance(900);
      await queue.extendLeases([renewed], 1_000);
      clock.advance(200);
      expect((await queue.takeExpired(LEASE)).map((j) => j.id)).toEqual([lapsing]);
      expect(await queue.takeExpired(LEASE)).toEqual([]);
    });

    test("an outcome for a job that is no longer running changes nothing", async () => {
      const id = await queue.enqueue({ type: "t" });
      const [job] = await claim();
      expect((await settle(succeed(job!, 1))).length).toBe(1);
      expect(await settle({ kind: "failed", job: job!, error: "late", retryAt: clock.now(), at: clock.now() })).toEqual([]);
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", output: 1, error: null });
    });

    test("successes settled together at the same time apply to the jobs still running only", async () => {
      const ids = await queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t" }]);
      const jobs = await claim();
      expect(jobs.map((j) => j.id)).toEqual(ids);
      expect((await settle(succeed(jobs[1]!, 1))).length).toBe(1);
      // The same millisecond for all three (one statement for them in SQLite); the second is no longer running.
      const at = clock.now();
      const plain = jobs.map((job) => ({ kind: "succeeded" as const, job, result: {}, at }));
      expect((await settle(...plain)).map((o) => o.job.id)).toEqual([ids[0]!, ids[2]!]);
      for (const id of [ids[0]!, ids[2]!]) expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 1, output: null, completedAt: at });
      expect(await queue.getStatus(ids[1]!)).toMatchObject({ status: "succeeded", output: 1 });
    });

    test("a released attempt goes back to enqueued without spending the attempt", async () => {
      const id = await queue.enqueue({ type: "t" });
      const [job] = await claim();
      await settle({ kind: "released", job: job!, at: clock.now() });
      expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
      expect((await claim())[0]).toMatchObject({ id, attempt: 1 });
    });

    test("jobs claimed ahead spend no attempt until their start is recorded, and a released one gives back none", async () => {
      const ids = await queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t" }, { type: "t" }, { type: "t" }, { type: "t" }]);
      const { claimed } = await queue.settleAndClaim([], 6, LEASE, { startNow: 1 });
      expect(claimed.map((j) => [j.id, j.attempt])).toEqual(ids.map((id) => [id, 1])); // the attempt each will be
      expect((await queue.getStatus(ids[0]!))?.attempts).toBe(1);
      for (const id of ids.slice(1)) expect(await queue.getStatus(id)).toMatchObject({ status: "running", attempts: 0 });
      await queue.settleAndClaim([], 0, LEASE, { started: [ids[1]!] });
      expect((await queue.getStatus(ids[1]!))?.attempts).toBe(1);
      await queue.settleAndClaim([], 0, LEASE, { started: [ids[1]!] }); // recorded once, however often it is sent
      expect((await queue.getStatus(ids[1]!))?.attempts).toBe(1);
      // A start and the outcome of that attempt in one call: the start is recorded first.
      await queue.settleAndClaim([succeed(claimed[2]!)], 0, LEASE, { started: [ids[2]!] });
      expect(await queue.getStatus(ids[2]!)).toMatchObject({ status: "succeeded", attempts: 1 });
      await settle({ kind: "released", job: claimed[3]!, at: clock.now() });
      expect(await queue.getStatus(ids[3]!)).toMatchObject({ status: "enqueued", attempts: 0 });
      // Started and finished between two writes: the outcome alone counts the attempt.
      await settle({ kind: "failed", job: claimed[4]!, error: "e", retryAt: clock.now() + 1_000, at: clock.now() }, succeed(claimed[5]!));
      expect(await queue.getStatus(ids[4]!)).toMatchObject({ status: "failed", attempts: 1 });
      expect(await queue.getStatus(ids[5]!)).toMatchObject({ status: "succeeded", attempts: 1 });
    });

    test("after a crash, jobs claimed ahead go back to waiting without spending an attempt; started ones are taken over", async () => {
      const [started, ahead, recorded] = await queue.enqueueMany([{ type: "t", groupKey: "k" }, { type: "t" }, { type: "t" }]);
      const later = await queue.enqueue({ type: "t", groupKey: "k" });
      await queue.settleAndClaim([], 3, 1_000, { startNow: 1 });
      await queue.settleAndClaim([], 0, 1_000, { started: [recorded!] });
      clock.advance(2_000); // the worker died: no lease renewed
      const taken = await queue.takeExpired(LEASE);
      expect(taken.map((j) => [j.id, j.attempt]).sort()).toEqual([[started!, 1], [recorded!, 1]].sort());
      expect(await queue.getStatus(ahead!)).toMatchObject({ status: "enqueued", attempts: 0 });
      expect((await claim()).map((j) => [j.id, j.attempt])).toEqual([[ahead!, 1]]); // `later` still waits behind `started`
      expect(later).toBeDefined();
    });

    test("a job that keeps dying unstarted is given back a bounded number of times, then its attempt is spent", async () => {
      const id = await queue.enqueue({ type: "t", maxRetry: 3 });
      const rescues: number[] = [];
      for (let crash = 0; crash < MAX_REQUEUES + 5; crash++) {
        await queue.settleAndClaim([], 1, 1_000, { startNow: 0 });
        clock.advance(2_000);
        const taken = await queue.takeExpired(LEASE);
        if (taken.length > 0) {
          expect(taken.map((j) => [j.id, j.attempt])).toEqual([[id, 1]]);
          rescues.push(crash);
          break;
        }
        expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
      }
      expect(rescues).toEqual([MAX_REQUEUES]);
      expect((await queue.getStatus(id))?.attempts).toBe(1);
    });

    test("a dead job can be retried with fresh attempts; other jobs cannot", async () => {
      const id = await queue.enqueue({ type: "t", maxRetry: 1 });
      const [job] = await claim();
      expect(await queue.retry(id)).toBe("not_dead");
      await settle({ kind: "dead", job: job!, error: "boom", at: clock.now() });
      expect(await queue.retry(id)).toBe("retried");
      expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0, completedAt: null });
      expect((await claim())[0]).toMatchObject({ id, attempt: 1 });
      expect(await queue.retry("01ARZ3NDEKTSV4RRFFQ69G5FAV")).toBe("not_found");
    });

    test("status rows are listed with filters, OR groups, sort and pages", async () => {
      const a = await queue.enqueue({ type: "send_receipt", actorId: "ana" });
      clock.advance(1);
      const b = await queue.enqueue({ type: "webhook", actorId: "ben", groupKey: "g1" });
      clock.advance(1);
      const c = await queue.enqueue({ type: "send_receipt", actorId: "ben" });
      const ids = async (where: Condition[][], sort: ListQuery["sort"] = [], limit = 10, offset = 0) => {
        const { rows, total } = await queue.listStatuses({ where, sort, limit, offset });
        return { ids: rows.map((r) => r.id), total };
      };
      expect(await ids([[{ field: "actor_id", op: "eq", value: "ben" }]])).toEqual({ ids: [b, c], total: 2 });
      expect(await ids([[{ field: "type", op: "eq", value: "webhook" }, { field: "actor_id", op: "eq", value: "ana" }]])).toEqual({ ids: [a, b], total: 2 });
      expect(await ids([[{ field: "type", op: "in", value: ["webhook", "nothing"] }]])).toEqual({ ids: [b], total: 1 });
      expect(await ids([[{ field: "created_at", op: "gte", value: clock.now() - 1 }]], [{ field: "created_at", direction: "desc" }])).toEqual({ ids: [c, b], total: 2 });
      expect(await ids([[{ field: "type", op: "like", value: "send%" }]], [], 1, 1)).toEqual({ ids: [c], total: 2 });
      const { rows } = await queue.listStatuses({ where: [[{ field: "id", op: "eq", value: b }]], sort: [], limit: 1, offset: 0 });
      expect(rows[0]).toMatchObject({ id: b, type: "webhook", status: "enqueued", actor_id: "ben", group_key: "g1", attempts: 0, max_retry: 3, started_at: null });
    });

    test("keyset pages (after the last row's key) skip and repeat no row while jobs are inserted between pages, in every sort, NULL first", async () => {
      const groups = [null, "g1", "g2", null, "g3"];
      let n = 0;
      const enqueueOne = async () => {
        await queue.enqueue({ type: "t", priority: n % 3, groupKey: groups[n % groups.length] ?? undefined });
        clock.advance(n++ % 2); // pairs of jobs share a created_at: the id breaks the tie
      };
      for (let i = 0; i < 12; i++) await enqueueOne();
      const sorts: ListQuery["sort"][] = [
        [],
        [{ field: "id", direction: "desc" }],
        [{ field: "created_at", direction: "desc" }],
        [{ field: "priority", direction: "desc" }],
        [{ field: "group_key", direction: "asc" }],
        [{ field: "group_key", direction: "desc" }, { field: "priority", direction: "asc" }],
      ];
      for (const where of [[], [[{ field: "type", op: "eq", value: "t" }]]] as Condition[][][]) {
        for (const sort of sorts) {
          const listAll = async () => (await queue.listStatuses({ where, sort, limit: 1_000, offset: 0 })).rows;
          const before = (await listAll()).map((r) => r.id as string);
          const seen: string[] = [];
          let after: Scalar[] | undefined;
          for (let page = 0; page < 100; page++) {
            const { rows } = await queue.listStatuses({ where, sort, limit: 4, offset: 0, after, skipTotal: true });
            seen.push(...rows.map((r) => r.id as string));
            if (rows.length < 4) break; // the end (as has_more says); going on would follow new jobs
            after = keyOf(rows.at(-1)!, { sort });
            await enqueueOne(); // lands before or after the position, depending on the sort
          }
          const label = JSON.stringify({ where, sort });
          expect({ label, repeated: seen.length - new Set(seen).size }).toEqual({ label, repeated: 0 });
          expect({ label, skipped: before.filter((id) => !seen.includes(id)) }).toEqual({ label, skipped: [] });
          // The pages, joined, are the listing's own order (NULL group keys first going up).
          const order = (await listAll()).map((r) => r.id as string).filter((id) => seen.includes(id));
          expect({ label, seen }).toEqual({ label, seen: order });
        }
      }
      const nullFirst = (await queue.listStatuses({ where: [], sort: [{ field: "group_key", direction: "asc" }], limit: 1, offset: 0 })).rows[0];
      expect(nullFirst?.group_key).toBeNull();
    });

    test("a job waits in the queue it names, \"default\" otherwise; its status shows it and lists filter by it", async () => {
      const plain = await queue.enqueue({ type: "t" });
      const mail = await queue.enqueue({ type: "t", queue: "mail" });
      expect((await queue.getStatus(plain))?.queue).toBe("default");
      expect((await queue.getStatus(mail))?.queue).toBe("mail");
      const listed = await queue.listStatuses({ where: [[{ field: "queue", op: "eq", value: "mail" }]], sort: [], limit: 10, offset: 0 });
      expect(listed.rows.map((r) => [r.id, r.queue])).toEqual([[mail, "mail"]]);
      expect(Object.fromEntries((await claim()).map((j) => [j.id, j.queue]))).toEqual({ [plain]: "default", [mail]: "mail" });
    });

    test("a queue name that is not 1–64 of a-z 0-9 _ . - is refused and nothing is stored", async () => {
      for (const bad of ["", "Mail", "a b", "-x", "x".repeat(65), "mail:1"]) {
        await expect(Promise.resolve().then(() => queue.enqueue({ type: "t", queue: bad }))).rejects.toThrow(/queue/);
      }
      expect(await claim()).toEqual([]);
    });

    test("a paused queue accepts jobs and claims none while other queues run; resumed, its jobs are claimed in order", async () => {
      await queue.setQueuePaused("mail", true);
      const m1 = await queue.enqueue({ type: "t", queue: "mail" });
      const other = await queue.enqueue({ type: "t" });
      const m2 = await queue.enqueue({ type: "t", queue: "mail", priority: 1 });
      expect(await status(m1)).toBe("enqueued");
      expect((await claim()).map((j) => j.id)).toEqual([other]);
      expect(await claim()).toEqual([]);
      let woken = 0;
      const off = queue.onAvailable(() => woken++);
      await queue.setQueuePaused("mail", false);
      await waitUntil(() => woken > 0);
      off();
      expect((await claim()).map((j) => j.id)).toEqual([m2, m1]);
    });

    test("a pause declared in code is only a first state: a stored pause or resume wins over it", async () => {
      await queue.setQueuePaused("fresh", true, true);
      await queue.setQueuePaused("resumed", false);
      await queue.setQueuePaused("resumed", true, true);
      await queue.setQueuePaused("paused", true);
      await queue.setQueuePaused("paused", false, true);
      const states = Object.fromEntries((await queue.queueStates()).map((q) => [q.name, q.paused]));
      expect(states).toEqual({ fresh: true, resumed: false, paused: true });
    });

    test("a paused queue's delayed jobs do not wake the worker; other queues' do", async () => {
      await queue.setQueuePaused("mail", true);
      await queue.enqueueAt(clock.now() + 1_000, { type: "t", queue: "mail" });
      await queue.enqueueAt(clock.now() + 2_000, { type: "t" });
      expect(await queue.nextDueAt(clock.now())).toBe(clock.now() + 2_000);
    });

    test("a queue's allowance caps how many of its jobs one claim takes; the rest of the batch goes to other queues", async () => {
      const mail = await queue.enqueueMany(Array.from({ length: 5 }, () => ({ type: "t", queue: "mail", priority: 5 })));
      const other = await queue.enqueueMany([{ type: "t" }, { type: "t" }]);
      const first = await queue.settleAndClaim([], 4, LEASE, { queueAllowances: { mail: 2 } });
      expect(first.claimed.map((j) => j.id)).toEqual([mail[0]!, mail[1]!, ...other]);
      const none = await queue.settleAndClaim([], 4, LEASE, { queueAllowances: { mail: 0 } });
      expect(none.claimed).toEqual([]);
      const rest = await queue.settleAndClaim([], 10, LEASE, { queueAllowances: { mail: 10 } });
      expect(rest.claimed.map((j) => j.id)).toEqual(mail.slice(2));
    });

    test("queue states: every queue paused or holding jobs, with its jobs by status (succeeded counted too) and deletes counted off", async () => {
      await queue.setQueuePaused("idle", true);
      const [a, b, c] = await queue.enqueueMany([{ type: "t", queue: "mail" }, { type: "t", queue: "mail" }, { type: "t" }]);
      await queue.enqueue({ type: "t", queue: "mail" });
      const claimed = await queue.settleAndClaim([], 3, LEASE, { queueAllowances: { mail: 2 } });
      const byId = new Map(claimed.claimed.map((j) => [j.id, j]));
      await settle(succeed(byId.get(a!)!), { kind: "dead", job: byId.get(b!)!, error: "x", at: clock.now() });
      const states = await queue.queueStates();
      const zero = { enqueued: 0, running: 0, succeeded: 0, failed: 0, dead: 0, cancelled: 0 };
      expect(states).toEqual([
        { name: "default", paused: false, counts: { ...zero, running: 1 } },
        { name: "idle", paused: true, counts: zero },
        { name: "mail", paused: false, counts: { ...zero, enqueued: 1, succeeded: 1, dead: 1 } },
      ]);
      expect(await queue.delete(a!)).toBe("deleted");
      expect((await queue.queueStates()).find((q) => q.name === "mail")?.counts.succeeded).toBe(0);
      expect(byId.has(c!)).toBe(true);
    });

    test("delete: a finished job and its history go; a waiting or running one is refused; an unknown one is not found", async () => {
      const [done, dead, waiting, running] = await queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t", notBefore: clock.now() + 60_000 }, { type: "t" }]);
      const jobs = new Map((await claim(3)).map((j) => [j.id, j]));
      await settle(succeed(jobs.get(done!)!), { kind: "dead", job: jobs.get(dead!)!, error: "x", at: clock.now() });
      const cancelled = await queue.enqueue({ type: "t" });
      await queue.cancel(cancelled);
      for (const id of [done!, dead!, cancelled]) {
        expect(await queue.delete(id)).toBe("deleted");
        expect(await queue.getStatus(id)).toBeNull();
      }
      expect(await queue.delete(waiting!)).toBe("not_finished");
      expect(await queue.delete(running!)).toBe("not_finished");
      expect(await status(running!)).toBe("running");
      expect(await queue.delete(done!)).toBe("not_found");
    });

    test("attempt history: each failed attempt with its times, error, stack and worker; the succeeded one from the row; a running one open", async () => {
      const id = await queue.enqueue({ type: "t", maxRetry: 5 });
      const started = clock.now();
      const [first] = await claim();
      clock.advance(40);
      await settle({ kind: "failed", job: first!, error: "smtp down", stack: "Error: smtp down\n    at send (mail.ts:1:1)", retryAt: clock.now(), at: clock.now(), startedAt: started });
      clock.advance(10);
      const [second] = await claim();
      expect((await queue.getStatus(id))?.attemptsHistory.map((a) => [a.attempt, a.outcome, a.finishedAt])).toEqual([[1, "failed", started + 40], [2, "running", null]]);
      clock.advance(5);
      await settle({ kind: "failed", job: second!, error: "lease expired", retryAt: clock.now(), at: clock.now(), interrupted: true });
      const [third] = await claim();
      const thirdStart = clock.now();
      clock.advance(7);
      await settle(succeed(third!));
      const history = (await queue.getStatus(id))!.attemptsHistory;
      expect(history).toHaveLength(3);
      expect(history[0]).toEqual({ attempt: 1, startedAt: started, finishedAt: started + 40, durationMs: 40, outcome: "failed", error: "smtp down", stack: "Error: smtp down\n    at send (mail.ts:1:1)", worker: expect.any(String) });
      expect(history[1]).toMatchObject({ attempt: 2, outcome: "interrupted", error: "lease expired" });
      expect(history[2]).toEqual({ attempt: 3, startedAt: thirdStart, finishedAt: thirdStart + 7, durationMs: 7, outcome: "succeeded", error: null, stack: null, worker: history[0]!.worker });
    });

    test("attempt history: a dead attempt is kept; an attempt put back before its handler ran is not; one a shutdown cut short is 'released'", async () => {
      const id = await queue.enqueue({ type: "t", maxRetry: 3 });
      const [a] = await claim();
      await settle({ kind: "released", job: a!, at: clock.now() }); // never started: no history
      const [b] = await claim();
      clock.advance(3);
      await settle({ kind: "released", job: b!, at: clock.now(), startedAt: clock.now() - 3 });
      const [c] = await claim();
      clock.advance(9);
      await settle({ kind: "dead", job: c!, error: "gone", at: clock.now(), startedAt: clock.now() - 8 });
      expect((await queue.getStatus(id))!.attemptsHistory.map((h) => [h.attempt, h.outcome, h.error, h.durationMs])).toEqual([
        [1, "released", "worker shutting down", 3],
        [1, "dead", "gone", 8],
      ]);
    });

    if (features.durable) {
      test("a pause survives a restart: the queue opened again claims none of the paused queue's jobs", async () => {
        await queue.setQueuePaused("mail", true);
        const id = await queue.enqueue({ type: "t", queue: "mail" });
        const again = await fixture.reopen!();
        expect((await again.settleAndClaim([], 5, LEASE)).claimed).toEqual([]);
        expect((await again.queueStates()).find((q) => q.name === "mail")).toMatchObject({ paused: true, counts: { enqueued: 1 } });
        await again.setQueuePaused("mail", false);
        expect((await again.settleAndClaim([], 5, LEASE)).claimed.map((j) => j.id)).toEqual([id]);
      });
    }

    if (features.transactionalEnqueue) {
      test("transactional enqueue: a rollback leaves no job and frees its unique key; a commit keeps it", async () => {
        expect(queue.transactionalEnqueue).toBe(true);
        expect(fixture.enqueueInTransaction).toBeFunction();
        const rolledBack = await fixture.enqueueInTransaction!({ type: "send_receipt", uniqueKey: "order-1" }, "rollback");
        expect(rolledBack).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/); // the enqueue itself succeeded before the rollback
        expect(await queue.getStatus(rolledBack)).toBeNull();
        expect(await claim()).toEqual([]);
        const committed = await fixture.enqueueInTransaction!({ type: "send_receipt", uniqueKey: "order-1" }, "commit");
        expect(committed).not.toBe(rolledBack);
        expect(await status(committed)).toBe("enqueued");
        expect((await claim()).map((j) => j.id)).toEqual([committed]);
      });
    } else {
      test(`transactional enqueue: unsupported by ${name} (an enqueue is kept whatever the caller's transaction does)`, () => {
        expect(queue.transactionalEnqueue).toBe(false);
      });
    }

    test("enqueue wakes subscribers; an unsubscribed listener is not called", async () => {
      let wakes = 0;
      const off = queue.onAvailable(() => wakes++);
      await queue.enqueue({ type: "t" });
      await Bun.sleep(0);
      expect(wakes).toBeGreaterThanOrEqual(1);
      off();
      const before = wakes;
      await queue.enqueue({ type: "t" });
      await Bun.sleep(0);
      expect(wakes).toBe(before);
    });
  });
}
