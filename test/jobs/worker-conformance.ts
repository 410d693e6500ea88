// Worker behaviour over any adapter: the same handlers, retries, groups and shutdown rules
// must hold whatever the queue engine is.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { silentLogger } from "../../src/log.ts";
import { MAX_REQUEUES, UNHANDLED_REQUEUE_DELAY_MS, type StatusChange } from "../../src/jobs/queue.ts";
import { SandboxPool } from "../../src/jobs/sandbox-pool.ts";
import { Worker, type Handler, type WorkerOptions } from "../../src/jobs/worker.ts";
import { deferred, waitFor } from "../support/wait.ts";
import type { QueueFactory, QueueFixture, TestQueue } from "./conformance.ts";

export function workerConformance(name: string, factory: QueueFactory): void {
  describe(`${name} worker`, () => {
    let clock: ManualClock;
    let fixture: QueueFixture;
    let queue: TestQueue;
    let workers: Worker[];
    beforeEach(async () => {
      clock = new ManualClock();
      fixture = await factory(clock);
      queue = fixture.queue;
      workers = [];
    });
    afterEach(async () => {
      await Promise.all(workers.map((w) => w.shutdown(100)));
      await fixture.close();
    });

    const start = (handlers: Record<string, Handler>, options: Partial<WorkerOptions> = {}) => {
      const worker = new Worker({ source: queue, handlers, clock, logger: silentLogger, concurrency: 8, pollIntervalMs: 60_000, backoff: { random: () => 0.5 }, ...options });
      workers.push(worker);
      return worker.start();
    };
    const status = async (id: string) => (await queue.getStatus(id))?.status;

    test("runs the handler for the job's type with its payload, attempt and trace id, and stores the result", async () => {
      const seen: unknown[] = [];
      const worker = start({
        send_receipt: (job, ctx) => {
          seen.push([job.payload, ctx.attempt, ctx.traceId]);
          return { output: { sent: true }, url: "file:///outbox/1.eml" };
        },
      });
      const id = await queue.enqueue({ type: "send_receipt", payload: { order_id: "o1" }, traceId: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
      await worker.whenIdle();
      expect(seen).toEqual([[{ order_id: "o1" }, 1, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]]);
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", output: { sent: true }, resultUrl: "file:///outbox/1.eml", attempts: 1 });
    });

    test("never runs more handlers at once than its concurrency", async () => {
      let active = 0;
      let peak = 0;
      const worker = start({ t: async () => { active++; peak = Math.max(peak, active); await Bun.sleep(2); active--; } }, { concurrency: 3 });
      await queue.enqueueMany(Array.from({ length: 20 }, () => ({ type: "t" })));
      await waitFor(async () => (await queue.nextDueAt(clock.now())) === null && worker.activeCount === 0 && (await queue.settleAndClaim([], 0, 1)).claimed.length === 0);
      await worker.whenIdle();
      expect(peak).toBe(3);
    });

    test("group keys at concurrency 8: no two jobs of a key ever overlap, keys run side by side, FIFO within a key", async () => {
      const activeByKey = new Map<string, number>();
      const order = new Map<string, number[]>();
      let overlaps = 0;
      let active = 0;
      let peak = 0;
      const worker = start({
        t: async (job) => {
          const { key, n } = job.payload as { key: string; n: number };
          const now = (activeByKey.get(key) ?? 0) + 1;
          activeByKey.set(key, now);
          if (now > 1) overlaps++;
          peak = Math.max(peak, ++active);
          await Bun.sleep(Math.random() * 3);
          order.set(key, [...(order.get(key) ?? []), n]);
          activeByKey.set(key, activeByKey.get(key)! - 1);
          active--;
        },
      });
      const jobs = Array.from({ length: 80 }, (_, n) => ({ type: "t", groupKey: `k${n % 4}`, payload: { key: `k${n % 4}`, n } }));
      await queue.enqueueMany(jobs);
      await waitFor(() => [...order.values()].reduce((s, l) => s + l.length, 0) === 80, 10_000, "80 jobs");
      await worker.whenIdle();
      expect(overlaps).toBe(0);
      expect(peak).toBeGreaterThan(1);
      for (const ns of order.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    });

    test("a failing job is retried with exponential backoff (1 s, 2 s, …), then succeeds", async () => {
      let calls = 0;
      const worker = start({ flaky: () => { if (++calls < 3) throw new Error(`smtp down #${calls}`); return { output: calls }; } });
      const id = await queue.enqueue({ type: "flaky", maxRetry: 5 });
      await worker.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "failed", attempts: 1, error: "smtp down #1", runAt: clock.now() + 1_000 });
      clock.advance(999);
      await worker.whenIdle();
      expect(calls).toBe(1);
      clock.advance(1);
      await worker.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "failed", attempts: 2, error: "smtp down #2", runAt: clock.now() + 2_000 });
      clock.advance(2_000);
      await worker.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 3, output: 3, error: null });
    });

    test("dead after maxRetry attempts, with the last error, and handed to the DLQ type", async () => {
      const letters: unknown[] = [];
      const worker = start({ always: () => Promise.reject(new Error("gone for good")), dlq: (job) => void letters.push(job.payload) }, { deadLetterType: "dlq" });
      const id = await queue.enqueue({ type: "always", maxRetry: 2, payload: { n: 1 } });
      await worker.whenIdle();
      clock.advance(1_000);
      await worker.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "dead", attempts: 2, error: "gone for good" });
      expect(letters).toEqual([expect.objectContaining({ job_id: id, type: "always", payload: { n: 1 }, attempts: 2, error: "gone for good" })]);
    });

    test("a job of a type with no handler is put back every 5 s without spending an attempt, 20 times, then dead naming the type", async () => {
      const worker = start({});
      const id = await queue.enqueue({ type: "send_fax", maxRetry: 1 });
      for (let requeue = 1; requeue <= MAX_REQUEUES; requeue++) {
        await worker.whenIdle();
        expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0, runAt: clock.now() + UNHANDLED_REQUEUE_DELAY_MS });
        clock.advance(UNHANDLED_REQUEUE_DELAY_MS);
      }
      await worker.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "dead", error: 'no handler registered for job type "send_fax" (put back 20 times)' });
    });

    test("a job that arrives before the process that handles it runs there when it comes (a rolling upgrade)", async () => {
      const old = start({});
      const id = await queue.enqueue({ type: "send_sms", maxRetry: 1 });
      await old.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
      await old.shutdown(100);
      const upgraded = start({ send_sms: () => ({ output: "sent" }) });
      clock.advance(UNHANDLED_REQUEUE_DELAY_MS);
      await upgraded.whenIdle();
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 1, output: "sent" });
    });

    test("a handler that throws, rejects or hangs past its timeout fails that attempt only", async () => {
      let aborted = false;
      const worker = start({
        throws: () => { throw new Error("sync throw"); },
        rejects: async () => { throw new TypeError("async reject"); },
        hangs: (_job, ctx) => new Promise(() => ctx.signal.addEventListener("abort", () => (aborted = true))),
        bad_output: () => ({ output: { n: 1n } }),
        ok: () => ({ output: "fine" }),
      });
      const [t, r, h, b, ok] = await queue.enqueueMany([
        { type: "throws" }, { type: "rejects" }, { type: "hangs", timeoutMs: 20 }, { type: "bad_output" }, { type: "ok" },
      ]);
      await waitFor(async () => (await status(h!)) === "failed");
      await worker.whenIdle();
      expect(await queue.getStatus(t!)).toMatchObject({ status: "failed", error: "sync throw" });
      expect(await queue.getStatus(r!)).toMatchObject({ status: "failed", error: "async reject" });
      expect(await queue.getStatus(h!)).toMatchObject({ status: "failed", error: "timed out after 20 ms" });
      expect(await queue.getStatus(b!)).toMatchObject({ status: "failed", error: expect.stringContaining("not JSON-serialisable") });
      expect(await queue.getStatus(ok!)).toMatchObject({ status: "succeeded", output: "fine" });
      expect(aborted).toBe(true);
    });

    test("status sinks see every transition, after it is durable", async () => {
      const changes: string[] = [];
      const durable: boolean[] = [];
      const worker = start({ t: () => {} }, {
        status: { record: async (batch: readonly StatusChange[]) => {
          for (const c of batch) {
            changes.push(`${c.status}:${c.attempts}`);
            durable.push((await queue.getStatus(c.job.id))?.status === c.status || c.status === "running");
          }
        } },
      });
      await queue.enqueue({ type: "t" });
      await worker.whenIdle();
      await waitFor(() => durable.length === 2);
      expect(changes).toEqual(["running:1", "succeeded:1"]);
      expect(durable).toEqual([true, true]);
    });

    test("an idle worker wakes at once on enqueue, without waiting for a poll", async () => {
      const done = deferred();
      const worker = start({ t: () => done.resolve() });
      await worker.whenIdle();
      await queue.enqueue({ type: "t" });
      // Bounds a loaded machine meets, far below the 60 s poll interval a missed wake-up would wait.
      await Promise.race([done.promise, Bun.sleep(10_000).then(() => { throw new Error("not woken within 10 s (poll interval is 60 s)"); })]);
    });

    test("an idle worker wakes at the next not-before time", async () => {
      const realClock = { now: () => Date.now() };
      const done = deferred<number>();
      const local = await factory(realClock as ManualClock);
      const worker = new Worker({ source: local.queue, handlers: { t: () => done.resolve(Date.now()) }, logger: silentLogger, pollIntervalMs: 60_000 }).start();
      const due = Date.now() + 80;
      await local.queue.enqueueAt(due, { type: "t" });
      const ranAt = await Promise.race([done.promise, Bun.sleep(15_000).then(() => -1)]);
      await worker.shutdown(100);
      await local.close();
      expect(ranAt).toBeGreaterThanOrEqual(due);
      expect(ranAt - due).toBeLessThan(10_000); // the poll interval is 60 s: only a timer set for `due` runs it this soon
    });

    test("the wall clock jumping backwards mid-run neither expires the lease early nor runs the job twice", async () => {
      const started = deferred();
      const release = deferred();
      let runs = 0;
      // A short lease: the worker renews it every 100 ms of real time, from the (jumped) clock.
      // Renewals are counted once written, so the test can wait for one made after the jump.
      let renewals = 0;
      const extend = queue.extendLeases.bind(queue);
      queue.extendLeases = async (ids, leaseMs) => {
        await extend(ids, leaseMs);
        renewals++;
      };
      const worker = start({ t: async () => (runs++, started.resolve(), await release.promise) }, { leaseMs: 300 });
      const id = await queue.enqueue({ type: "t" });
      await started.promise;
      clock.advance(-60 * 60_000); // an NTP step: an hour back, in the middle of the run
      // At once, before the worker renews: its lease now ends an hour and more "from now", which is no reason to take it.
      expect(await queue.takeExpired(300)).toEqual([]);
      const before = renewals;
      await waitFor(() => renewals >= before + 2, 5_000, "a lease renewal begun after the jump"); // the first may have begun before it
      expect(await queue.takeExpired(300)).toEqual([]); // nobody may take it over
      clock.advance(200); // time goes on from the jumped value, still inside the renewed lease
      expect(await queue.takeExpired(300)).toEqual([]);
      release.resolve();
      await waitFor(async () => (await status(id)) === "succeeded", 5_000, "the job to succeed");
      await worker.whenIdle();
      clock.advance(-60 * 60_000); // and another jump back once it finished
      expect(await queue.takeExpired(300)).toEqual([]);
      expect((await queue.settleAndClaim([], 10, 300)).claimed).toEqual([]);
      expect(runs).toBe(1);
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 1 });
    });

    test("a job whose lease lapsed (its worker died) is counted as a failed attempt and run again", async () => {
      const id = await queue.enqueue({ type: "t" });
      await queue.settleAndClaim([], 1, 1_000); // a worker that then dies
      clock.advance(1_001);
      const runs: number[] = [];
      const worker = start({ t: (job) => void runs.push(job.attempt) });
      await waitFor(async () => (await status(id)) === "failed");
      expect(await queue.getStatus(id)).toMatchObject({ error: expect.stringContaining("lease expired"), attempts: 1 });
      clock.advance(1_000);
      await worker.whenIdle();
      expect(runs).toEqual([2]);
      expect(await status(id)).toBe("succeeded");
    });

    test("a retry that falls due while the worker is writing is not missed until the next poll", async () => {
      const slow: TestQueue = Object.create(queue);
      slow.settleAndClaim = async (outcomes, max, leaseMs) => {
        const result = await queue.settleAndClaim(outcomes, max, leaseMs);
        clock.advance(5); // time passes while the batch commits
        return result;
      };
      let calls = 0;
      const worker = new Worker({ source: slow, handlers: { t: async () => { await Bun.sleep(5); if (++calls === 1) throw new Error("first try fails"); } }, clock, logger: silentLogger, pollIntervalMs: 60_000, backoff: { baseMs: 1, jitter: 0 } });
      workers.push(worker.start());
      const id = await queue.enqueue({ type: "t" });
      await waitFor(async () => (await status(id)) === "succeeded", 3_000, "the retry to run without waiting for the 60 s poll");
      expect(calls).toBe(2);
    });

    test("when the queue cannot be written, finished attempts are kept and written once it can", async () => {
      let thrown = 0;
      const flaky: TestQueue = Object.create(queue);
      flaky.settleAndClaim = (outcomes, max, leaseMs) => {
        if (outcomes.length > 0 && thrown++ === 0) throw new Error("disk I/O error");
        return queue.settleAndClaim(outcomes, max, leaseMs);
      };
      const worker = new Worker({ source: flaky, handlers: { t: () => ({ output: "kept" }) }, clock, logger: silentLogger, pollIntervalMs: 60_000 });
      workers.push(worker.start());
      const id = await queue.enqueue({ type: "t" });
      await waitFor(async () => (await status(id)) === "succeeded", 5_000, "the outcome to be written after the retry");
      expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", output: "kept", attempts: 1 });
      expect(thrown).toBeGreaterThanOrEqual(2); // the failed write, then the one that worked
    });

    test("shutdown lets running jobs finish, records them, and leaves the rest queued", async () => {
      const gate = deferred();
      const started: string[] = [];
      const worker = start({ slow: async (job) => { started.push(job.id); await gate.promise; } }, { concurrency: 2 });
      const ids = await queue.enqueueMany(Array.from({ length: 5 }, () => ({ type: "slow" })));
      await waitFor(() => started.length === 2);
      const stopping = worker.shutdown(5_000);
      gate.resolve();
      await stopping;
      const statuses = await Promise.all(ids.map(status));
      expect(statuses.filter((s) => s === "succeeded").length).toBe(2);
      expect(statuses.filter((s) => s === "enqueued").length).toBe(3);
      const next = start({ slow: () => {} });
      await next.whenIdle();
      expect(await Promise.all(ids.map(status))).toEqual(ids.map(() => "succeeded"));
    });

    test("shutdown puts back an attempt that outlives the grace period, without spending it", async () => {
      let signal: AbortSignal | undefined;
      const worker = start({ stuck: (_job, ctx) => { signal = ctx.signal; return new Promise(() => {}); } });
      const id = await queue.enqueue({ type: "stuck" });
      await waitFor(() => signal !== undefined);
      await worker.shutdown(20);
      expect(signal!.aborted).toBe(true);
      expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
    });

    test("a queue's concurrency limit holds while the other queues use the rest of the pool", async () => {
      const gate = deferred();
      const active = { mail: 0, default: 0 };
      const peak = { mail: 0, default: 0 };
      const handler: Handler = async (job) => {
        const q = job.queue as "mail" | "default";
        peak[q] = Math.max(peak[q], ++active[q]);
        await gate.promise;
        active[q]--;
      };
      const worker = start({ t: handler }, { concurrency: 8, queues: { mail: { concurrency: 2 } } });
      await queue.enqueueMany(Array.from({ length: 10 }, () => ({ type: "t", queue: "mail", priority: 9 })));
      await queue.enqueueMany(Array.from({ length: 10 }, () => ({ type: "t" })));
      await waitFor(() => active.mail === 2 && active.default === 6, 5_000, "2 mail and 6 default jobs running");
      expect(worker.heldInQueue("mail")).toBe(2);
      gate.resolve();
      await waitFor(async () => (await queue.listStatuses({ where: [[{ field: "status", op: "eq", value: "succeeded" }]], sort: [], limit: 100, offset: 0 })).rows.length === 20, 10_000, "20 jobs");
      expect(peak.mail).toBe(2);
      expect(worker.heldInQueue("mail")).toBe(0);
    });

    test("a queue's rate limit: at most N of its jobs start per interval, the rest when the window frees", async () => {
      const ran: string[] = [];
      const worker = start({ t: (job) => void ran.push(job.queue) }, { queues: { sms: { rateLimit: { limit: 2, intervalMs: 1_000 } } } });
      await queue.enqueueMany(Array.from({ length: 5 }, () => ({ type: "t", queue: "sms" })));
      await queue.enqueue({ type: "t" });
      await worker.whenIdle();
      expect(ran.filter((q) => q === "sms").length).toBe(2);
      expect(ran).toContain("default");
      clock.advance(999);
      await worker.whenIdle();
      expect(ran.filter((q) => q === "sms").length).toBe(2);
      clock.advance(1);
      await worker.whenIdle();
      expect(ran.filter((q) => q === "sms").length).toBe(4);
      clock.advance(1_000);
      await worker.whenIdle();
      expect(ran.filter((q) => q === "sms").length).toBe(5);
    });

    test("a paused queue's jobs wait while other queues run; resumed, they run", async () => {
      const ran: string[] = [];
      const worker = start({ t: (job) => void ran.push(job.queue) });
      await queue.setQueuePaused("mail", true);
      const mail = await queue.enqueue({ type: "t", queue: "mail" });
      await queue.enqueue({ type: "t" });
      await worker.whenIdle();
      expect(ran).toEqual(["default"]);
      expect(await status(mail)).toBe("enqueued");
      await queue.setQueuePaused("mail", false);
      await waitFor(async () => (await status(mail)) === "succeeded", 5_000, "the mail job to run once resumed");
      expect(ran).toEqual(["default", "mail"]);
    });

    test("a job failing three times shows three attempts with their errors, stacks and times", async () => {
      let calls = 0;
      const worker = start({ flaky: () => { throw new Error(`smtp down #${++calls}`); } });
      const id = await queue.enqueue({ type: "flaky", maxRetry: 3 });
      for (const wait of [0, 1_000, 2_000]) {
        clock.advance(wait);
        await worker.whenIdle();
      }
      const state = (await queue.getStatus(id))!;
      expect(state.status).toBe("dead");
      expect(state.attemptsHistory.map((a) => [a.attempt, a.outcome, a.error])).toEqual([[1, "failed", "smtp down #1"], [2, "failed", "smtp down #2"], [3, "dead", "smtp down #3"]]);
      for (const a of state.attemptsHistory) {
        expect(a.stack).toContain("smtp down");
        expect(a.startedAt).toBeNumber();
        expect(a.durationMs).toBeGreaterThanOrEqual(0);
        expect(a.worker).toBeString();
      }
    });

    test("a succeeded job's history is its one attempt, read from the row", async () => {
      const worker = start({ t: () => {} });
      const id = await queue.enqueue({ type: "t" });
      await worker.whenIdle();
      expect((await queue.getStatus(id))!.attemptsHistory).toEqual([{ attempt: 1, startedAt: clock.now(), finishedAt: clock.now(), durationMs: 0, outcome: "succeeded", error: null, stack: null, worker: expect.any(String) }]);
    });

    describe("sandboxed handlers (a pool of threads)", () => {
      let pool: SandboxPool;
      const module = new URL("./fixtures/sandboxed-handlers.ts", import.meta.url);
      beforeAll(async () => {
        pool = await SandboxPool.open({ types: { echo: { module, export: "echo" }, fail: { module, export: "fail" }, spin: { module, export: "spin" } }, size: 2, logger: silentLogger });
      });
      afterAll(() => pool.close());

      test("results and errors are stored; an endless loop is terminated at its timeout and its job retried", async () => {
        const worker = start(pool.handlers());
        const [ok, failed, looping] = await queue.enqueueMany([
          { type: "echo", payload: { n: 1 } }, { type: "fail", payload: 2, maxRetry: 1 }, { type: "spin", payload: { foreverOnAttempt: 1, ms: 1 }, timeoutMs: 1_000, maxRetry: 2 },
        ]);
        await waitFor(async () => (await status(looping!)) === "failed", 10_000, "the loop to time out");
        await worker.whenIdle();
        expect(await queue.getStatus(ok!)).toMatchObject({ status: "succeeded", output: { payload: { n: 1 }, attempt: 1 } });
        expect(await queue.getStatus(failed!)).toMatchObject({ status: "dead", error: "bad payload 2" });
        expect(await queue.getStatus(looping!)).toMatchObject({ attempts: 1, error: "timed out after 1000 ms" });
        clock.advance(5_000);
        worker.wake();
        await waitFor(async () => (await status(looping!)) === "succeeded", 10_000, "the retry");
        expect(await queue.getStatus(looping!)).toMatchObject({ attempts: 2, output: { spun: 1 } });
      });

      test("shutdown terminates a sandboxed attempt past its grace period and puts the job back without spending it", async () => {
        const worker = start(pool.handlers());
        const id = await queue.enqueue({ type: "spin", payload: { forever: true } });
        await waitFor(() => pool.busyCount === 1, 5_000, "the job to run");
        await worker.shutdown(50);
        expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
        await waitFor(() => pool.busyCount === 0 && pool.readyCount === 2, 5_000, "the thread to be terminated and replaced");
      });
    });
  });
}
