// Sandboxed handlers: job types whose handler runs in a pool of worker threads (src/jobs/
// sandbox-pool.ts) while the main thread keeps the writer. What a user relies on: results and
// errors come back as thrown, a runaway handler is terminated at its timeout and retried, a
// crashed thread is replaced, shutdown gives back what it interrupts, the pool is as big as
// asked, a wrong module stops the start, and the API keeps answering meanwhile.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { openDatabase, type Db } from "../../src/db/index.ts";
import { jobsMigrations, SqliteQueue } from "../../src/jobs/sqlite.ts";
import { SandboxPool, SandboxStartError } from "../../src/jobs/sandbox-pool.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { defineApp } from "../../src/runtime/define.ts";
import { startServer } from "../../src/runtime/server.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";
import type { Job } from "../../src/jobs/types.ts";

const MODULE = new URL("./fixtures/sandboxed-handlers.ts", import.meta.url);
const EXPORTS = ["echo", "fail", "failPermanently", "returnFunction", "hang", "spin", "nap", "exitThread", "throwLater", "readJobs", "timestamps", "schedulingOfThread"] as const;
const types = (size = {}) => Object.fromEntries(EXPORTS.map((name) => [name, { module: MODULE, export: name, data: { shop: "books" }, ...size }]));

const job = (payload: unknown = null, attempt = 1): Job => ({
  id: `job-${Math.random()}`, type: "t", payload, headers: {}, actorId: null, tenantId: null, maxRetry: 3, groupKey: null, queue: "default",
  traceId: null, priority: 0, uniqueKey: null, timeoutMs: null, attempt, requeues: 0, createdAt: 0,
});

describe("the pool", () => {
  let pool: SandboxPool;
  beforeAll(async () => {
    pool = await SandboxPool.open({ types: types(), size: 2, logger: silentLogger });
  });
  afterAll(() => pool.close());

  test("a result comes back by message, with the job, its attempt and the type's data", async () => {
    const result = await pool.run("echo", job({ order: "o1" }, 2));
    expect(result.output).toMatchObject({ payload: { order: "o1" }, attempt: 2, data: { shop: "books" } });
    // …computed in a thread, not here.
    expect((result.output as { threadId: number }).threadId).toBeGreaterThan(0);
  });

  // SCHED_IDLE (5): a thread of any other policy waking on the core preempts it at once (thread-priority.ts).
  test.skipIf(process.platform !== "linux")("a sandbox thread runs under SCHED_IDLE by default, and at its normal priority with nice 0", async () => {
    expect((await pool.run("schedulingOfThread", job())).output).toMatchObject({ policy: 5 });
    const normal = await SandboxPool.open({ types: types(), size: 1, nice: 0, logger: silentLogger });
    try {
      expect((await normal.run("schedulingOfThread", job())).output).toEqual({ policy: 0, nice: 0 });
    } finally {
      await normal.close();
    }
  });

  test("an error comes back with its name, message and the stack from the handler's own file", async () => {
    const error = (await pool.run("fail", job({ n: 1 })).catch((e) => e)) as Error;
    expect(error.name).toBe("TypeError");
    expect(error.message).toBe('bad payload {"n":1}');
    expect(error.stack).toContain("sandboxed-handlers.ts");
  });

  test("a result that cannot leave the thread fails with a clear error, and the thread keeps working", async () => {
    const error = (await pool.run("returnFunction", job()).catch((e) => e)) as Error;
    expect(error.message).toContain("handler returned a result that cannot be sent from its thread");
    expect(error.message).toContain("return plain JSON data");
    expect((await pool.run("echo", job("still here"))).output).toMatchObject({ payload: "still here" });
  });

  test("a handler that honours its abort signal ends without its thread being replaced", async () => {
    const replaced = pool.replaced;
    const error = (await pool.run("hang", job(), AbortSignal.timeout(30)).catch((e) => e)) as Error;
    expect(error.name).toBe("TimeoutError");
    await waitFor(() => pool.busyCount === 0, 5_000, "the thread to finish");
    expect(pool.replaced).toBe(replaced);
  });

  test("an endless loop is terminated when aborted: its thread is replaced and the next job runs", async () => {
    const replaced = pool.replaced;
    const started = performance.now();
    const error = (await pool.run("spin", job({ forever: true }), AbortSignal.timeout(100)).catch((e) => e)) as Error;
    expect(error.name).toBe("TimeoutError");
    expect(performance.now() - started).toBeLessThan(2_000);
    await waitFor(() => pool.replaced === replaced + 1, 5_000, "the thread to be replaced");
    // Both threads serve again (two jobs at once), the runaway is gone.
    const both = await Promise.all([pool.run("spin", job({ ms: 50 })), pool.run("spin", job({ ms: 50 }))]);
    expect(both.map((r) => r.output)).toEqual([{ spun: 50 }, { spun: 50 }]);
  });

  test("a thread that exits or throws outside its handler fails that job only and is replaced", async () => {
    const replaced = pool.replaced;
    const exited = (await pool.run("exitThread", job()).catch((e) => e)) as Error;
    expect(exited.message).toBe("sandbox thread crashed: the thread exited (code 3)");
    const threw = (await pool.run("throwLater", job()).catch((e) => e)) as Error;
    expect(threw.message).toBe("sandbox thread crashed: uncaught in the thread");
    expect(pool.replaced).toBe(replaced + 2);
    expect((await pool.run("echo", job("after"))).output).toMatchObject({ payload: "after" });
  });

  test("never runs more jobs at once than its size", async () => {
    await waitFor(() => pool.readyCount === 2, 5_000, "replaced threads to be ready");
    const runs = await Promise.all(Array.from({ length: 6 }, () => pool.run("timestamps", job({ ms: 40 }))));
    const spans = runs.map((r) => r.output as { start: number; end: number; threadId: number });
    const peak = Math.max(...spans.map((s) => spans.filter((o) => o.start <= s.start && s.start < o.end).length));
    expect(peak).toBe(2);
    expect(new Set(spans.map((s) => s.threadId)).size).toBe(2);
  });
});

describe("opening a pool", () => {
  test("a module that does not exist stops the start, naming the type and the module", async () => {
    const missing = new URL("./fixtures/no-such-module.ts", import.meta.url);
    const error = (await SandboxPool.open({ types: { render: { module: missing, export: "render" } }, size: 1, logger: silentLogger }).catch((e) => e)) as Error;
    expect(error).toBeInstanceOf(SandboxStartError);
    expect(error.message).toContain('job type "render": cannot load its sandboxed module');
    expect(error.message).toContain("no-such-module.ts");
  });

  test("an export that is missing or not a function stops the start, listing the module's functions", async () => {
    for (const name of ["nope", "notAFunction"]) {
      const error = (await SandboxPool.open({ types: { render: { module: MODULE, export: name } }, size: 1, logger: silentLogger }).catch((e) => e)) as Error;
      expect(error).toBeInstanceOf(SandboxStartError);
      expect(error.message).toContain(`has no exported function "${name}"`);
      expect(error.message).toContain("(its exported functions: echo, exitThread, fail,");
    }
  });

  test("a relative path, or database reads without a file, are refused before any thread starts", async () => {
    const relative = (await SandboxPool.open({ types: { render: { module: "./render.ts" } }, logger: silentLogger }).catch((e) => e)) as Error;
    expect(relative.message).toContain("must be a URL or an absolute path");
    const noFile = (await SandboxPool.open({ types: { render: { module: MODULE, export: "readJobs", readDatabase: true } }, dbPath: null, logger: silentLogger }).catch((e) => e)) as Error;
    expect(noFile.message).toContain("needs a database file");
  });
});

describe("sandboxed job types under a worker", () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let queue: SqliteQueue;
  let clock: ManualClock;
  let pool: SandboxPool;
  let worker: Worker | null;
  beforeEach(async () => {
    tmp = tempDir();
    clock = new ManualClock();
    db = openDatabase(tmp.file("jobs.db"), { migrations: jobsMigrations });
    queue = new SqliteQueue(db, { clock });
    pool = await SandboxPool.open({ types: types({ readDatabase: true }), size: 2, dbPath: tmp.file("jobs.db"), logger: silentLogger });
    worker = null;
  });
  afterEach(async () => {
    await worker?.shutdown(100);
    await pool.close();
    db.close();
    tmp.remove();
  });
  const start = () => (worker = new Worker({ source: queue, handlers: pool.handlers(), clock, logger: silentLogger, concurrency: 4, backoff: { random: () => 0.5 } }).start());

  test("results and errors land on the status row; a PermanentJobError in a thread is dead at once", async () => {
    const [ok, failed, dead] = db.transaction(() => queue.enqueueMany([{ type: "echo", payload: { a: 1 } }, { type: "fail", payload: 7 }, { type: "failPermanently" }]));
    await start().whenIdle();
    expect(await queue.getStatus(ok!)).toMatchObject({ status: "succeeded", output: { payload: { a: 1 }, attempt: 1 } });
    expect(await queue.getStatus(failed!)).toMatchObject({ status: "failed", attempts: 1, error: "bad payload 7" });
    // The attempt's history keeps the stack the handler threw in its thread.
    expect((await queue.getStatus(failed!))!.attemptsHistory![0]!.stack).toContain("sandboxed-handlers.ts");
    expect(await queue.getStatus(dead!)).toMatchObject({ status: "dead", attempts: 1, error: "the thing is gone" });
  });

  test("a handler reads the database through its own read-only connection", async () => {
    const id = db.transaction(() => queue.enqueueMany([{ type: "readJobs" }, { type: "echo" }, { type: "echo" }]))[0]!;
    await start().whenIdle();
    expect((await queue.getStatus(id))?.output).toEqual({ jobs: 3 });
  });

  test("an endless loop is terminated at its timeout, the attempt fails, and the retry runs", async () => {
    // Ample, for a loaded machine (the timeout counts from when a thread takes the job).
    const id = db.transaction(() => queue.enqueue({ type: "spin", payload: { foreverOnAttempt: 1, ms: 1 }, timeoutMs: 1_000, maxRetry: 2 }));
    const w = start();
    await waitFor(async () => (await queue.getStatus(id))?.status === "failed", 10_000, "the first attempt to time out");
    expect(await queue.getStatus(id)).toMatchObject({ attempts: 1, error: "timed out after 1000 ms" });
    await waitFor(() => pool.replaced >= 1, 5_000, "the runaway thread to be replaced");
    clock.advance(5_000);
    await w.whenIdle();
    expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 2, output: { spun: 1 } });
  });

  test("a job's timeout counts from when a thread takes it: one that waited for the only thread still has its whole time", async () => {
    const single = await SandboxPool.open({ types: types(), size: 1, logger: silentLogger });
    try {
      // Two naps of 1 s with 1.6 s each, one thread: the second waits ~1 s before it starts,
      // which would put it past 1.6 s if the wait counted.
      const ids = db.transaction(() => queue.enqueueMany([0, 1].map(() => ({ type: "nap", payload: { ms: 1_000 }, timeoutMs: 1_600, maxRetry: 1 }))));
      const w = (worker = new Worker({ source: queue, handlers: single.handlers(), clock, logger: silentLogger, concurrency: 2 }).start());
      await w.whenIdle();
      for (const id of ids) expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 1, output: { napped: 1_000 } });
      // Counted from the start, the time is still kept: a nap past it is stopped.
      const late = db.transaction(() => queue.enqueue({ type: "nap", payload: { ms: 10_000 }, timeoutMs: 300, maxRetry: 1 }));
      await w.whenIdle();
      expect(await queue.getStatus(late)).toMatchObject({ attempts: 1, error: "timed out after 300 ms" });
    } finally {
      await worker?.shutdown(100);
      worker = null;
      await single.close();
    }
  });

  test("a crashed thread fails its attempt, which is retried on the thread that replaced it", async () => {
    const id = db.transaction(() => queue.enqueue({ type: "exitThread", payload: { onAttempt: 1 }, maxRetry: 2 }));
    const w = start();
    await w.whenIdle();
    expect(await queue.getStatus(id)).toMatchObject({ status: "failed", attempts: 1, error: "sandbox thread crashed: the thread exited (code 3)" });
    clock.advance(5_000);
    await w.whenIdle();
    expect(await queue.getStatus(id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  test("shutdown terminates a sandboxed attempt that outlives the grace period and puts its job back without spending it", async () => {
    const ids = db.transaction(() => queue.enqueueMany([{ type: "spin", payload: { forever: true } }, { type: "spin", payload: { forever: true } }, { type: "echo", notBefore: clock.now() + 60_000 }]));
    const w = start();
    await waitFor(() => pool.busyCount === 2, 5_000, "both jobs to run");
    await w.shutdown(100);
    worker = null;
    await pool.close();
    expect(pool.busyCount).toBe(0);
    for (const id of ids) expect(await queue.getStatus(id)).toMatchObject({ status: "enqueued", attempts: 0 });
  });
});

describe("a server with a sandboxed type", () => {
  const busyApp = (module: URL, exportName: string) =>
    defineApp({ name: "busy", version: "1.0.0", jobs: { busy: { sandbox: { module, export: exportName }, timeoutMs: 2_000, maxRetry: 2 } } });

  test("keeps answering while a handler loops forever, terminates it at its timeout and retries the job", async () => {
    const tmp = tempDir();
    const server = await startServer(busyApp(MODULE, "spin"), { db: tmp.file("busy.db"), port: 0, logger: silentLogger, sandboxThreads: 1, outbox: tmp.file("outbox") });
    try {
      const { services } = server.built;
      const id = await services.db.write(() => services.queue.enqueue({ type: "busy", payload: { foreverOnAttempt: 1, ms: 1 } }));
      const headers = { authorization: `Bearer ${server.firstAdmin!.token}` };
      const slowest: number[] = [];
      let status = "";
      const deadline = Date.now() + 45_000;
      while (status !== "succeeded" && Date.now() < deadline) {
        const started = performance.now();
        const answer = await fetch(`${server.url}/api/job_statuses/${id}`, { headers, signal: AbortSignal.timeout(5_000) });
        slowest.push(performance.now() - started);
        status = ((await answer.json()) as { data: { status: string } }).data.status;
        await Bun.sleep(10);
      }
      const row = (await services.queue.getStatus(id))!;
      expect(row).toMatchObject({ status: "succeeded", attempts: 2 });
      // The loop held its thread for 2 s and the retry waited ~1 s; no request waited on either
      // (inline, the loop would hold the only thread that answers: every request would time out).
      expect(slowest.length).toBeGreaterThan(20);
      expect(Math.max(...slowest)).toBeLessThan(2_000);
    } finally {
      await server.stop();
      tmp.remove();
    }
  }, 60_000);

  test("a wrong module or export stops the start with a message naming both", async () => {
    const tmp = tempDir();
    try {
      const error = (await startServer(busyApp(MODULE, "render"), { db: tmp.file("busy.db"), port: 0, logger: silentLogger, outbox: tmp.file("outbox") }).catch((e) => e)) as Error;
      expect(error.message).toContain('job type "busy"');
      expect(error.message).toContain('has no exported function "render"');
      // Everything it opened was closed: the file can be opened again for writing.
      openDatabase(tmp.file("busy.db")).close();
    } finally {
      tmp.remove();
    }
  });

  test("defineApp refuses a type with both a handler and a sandbox, or neither", () => {
    expect(() => defineApp({ name: "x", version: "1", jobs: { t: { handler: () => {}, sandbox: { module: MODULE } } as never } })).toThrow('job type "t" must declare either a handler or a sandbox module, not both');
    expect(() => defineApp({ name: "x", version: "1", jobs: { t: { maxRetry: 2 } as never } })).toThrow("not neither");
  });
});
