// Named queues and attempt history over REST: GET /api/queues, POST /api/queues/:name/pause|resume,
// attempts_history on GET /api/job_statuses/:id (admins only), attemptsHistory on
// GET /api/admin/jobs/:id, DELETE /api/admin/jobs/:id — with their 401/403/404/409/422 answers.
import { beforeEach, expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { addUser, testApp } from "./support.ts";

let app: ReturnType<typeof testApp>;
let queue: SqliteQueue;
let admin: { id: string; token: string };
let ana: { id: string; token: string };
beforeEach(() => {
  const db = openDatabase(":memory:", { migrations: jobsMigrations });
  queue = new SqliteQueue(db);
  app = testApp({ db, queue, queues: { mail: { concurrency: 2, rateLimit: { limit: 10, intervalMs: 60_000 } }, reports: {} } });
  admin = addUser(app.services, "root", ["admin"]);
  ana = addUser(app.services, "ana");
});

const zero = { enqueued: 0, running: 0, succeeded: 0, failed: 0, dead: 0, cancelled: 0 };

test("GET /api/queues lists declared queues, queues holding jobs and paused ones, with limits and counts", async () => {
  queue.enqueue({ type: "t", queue: "mail" });
  queue.enqueue({ type: "t", queue: "webhooks" });
  queue.enqueue({ type: "t" });
  const res = await app.call("GET", "/api/queues", { token: admin.token });
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual([
    { name: "default", paused: false, concurrency: null, running: 0, counts: { ...zero, enqueued: 1 }, rate_limit: null },
    { name: "mail", paused: false, concurrency: 2, running: 0, counts: { ...zero, enqueued: 1 }, rate_limit: { limit: 10, interval_ms: 60_000 } },
    { name: "reports", paused: false, concurrency: null, running: 0, counts: zero, rate_limit: null },
    { name: "webhooks", paused: false, concurrency: null, running: 0, counts: { ...zero, enqueued: 1 }, rate_limit: null },
  ]);
});

test("pause and resume answer the queue; a paused queue keeps its jobs waiting while others run", async () => {
  const mail = queue.enqueue({ type: "t", queue: "mail" });
  const other = queue.enqueue({ type: "t" });
  const paused = await app.call("POST", "/api/queues/mail/pause", { token: admin.token });
  expect(paused.status).toBe(200);
  expect(paused.body.data).toMatchObject({ name: "mail", paused: true, concurrency: 2, counts: { enqueued: 1 } });
  const worker = new Worker({ source: queue, handlers: { t: () => {} }, logger: silentLogger, queues: { mail: { concurrency: 2 } } }).start();
  try {
    await worker.whenIdle();
    expect(queue.getStatus(other)?.status).toBe("succeeded");
    expect(queue.getStatus(mail)?.status).toBe("enqueued");
    const resumed = await app.call("POST", "/api/queues/mail/resume", { token: admin.token });
    expect(resumed.body.data).toMatchObject({ name: "mail", paused: false });
    await worker.whenIdle();
    expect(queue.getStatus(mail)?.status).toBe("succeeded");
    expect((await app.call("GET", "/api/queues", { token: admin.token })).body.data.find((q: { name: string }) => q.name === "mail").counts).toEqual({ ...zero, succeeded: 1 });
  } finally {
    await worker.shutdown(100);
  }
});

test("an undeclared queue may be paused before its first job; a malformed name is a 422", async () => {
  const res = await app.call("POST", "/api/queues/sms/pause", { token: admin.token });
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual({ name: "sms", paused: true, concurrency: null, running: 0, counts: zero, rate_limit: null });
  for (const bad of ["Mail", "a%20b", "-x", "x".repeat(65)]) {
    const refused = await app.call("POST", `/api/queues/${bad}/pause`, { token: admin.token });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("VALIDATION_ERROR");
  }
  expect((await app.call("GET", "/api/queues", { token: admin.token })).body.data.map((q: { name: string }) => q.name)).toEqual(["mail", "reports", "sms"]);
});

test("queues are for admins: 401 without a token, 403 for others, nothing paused", async () => {
  for (const [method, path] of [["GET", "/api/queues"], ["POST", "/api/queues/mail/pause"], ["POST", "/api/queues/mail/resume"], ["DELETE", "/api/admin/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV"]] as const) {
    const anonymous = await app.call(method, path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
    const other = await app.call(method, path, { token: ana.token });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("FORBIDDEN");
  }
  expect(queue.queueStates().every((q) => !q.paused)).toBe(true);
});

test("attempts_history: every attempt with ISO times, error and stack for admins; none for the job's owner", async () => {
  let calls = 0;
  const id = queue.enqueue({ type: "flaky", actorId: ana.id, maxRetry: 3 });
  const worker = new Worker({ source: queue, handlers: { flaky: () => { if (++calls < 3) throw new Error(`smtp down #${calls}`); } }, logger: silentLogger, backoff: { baseMs: 1, capMs: 1, random: () => 0 } }).start();
  try {
    while (queue.getStatus(id)?.status !== "succeeded") await worker.whenIdle().then(() => Bun.sleep(2));
  } finally {
    await worker.shutdown(100);
  }
  const seen = await app.call("GET", `/api/job_statuses/${id}`, { token: admin.token });
  expect(seen.status).toBe(200);
  const history = seen.body.data.attempts_history;
  expect(history.map((a: { attempt: number; outcome: string; error: string | null }) => [a.attempt, a.outcome, a.error])).toEqual([[1, "failed", "smtp down #1"], [2, "failed", "smtp down #2"], [3, "succeeded", null]]);
  expect(history[0].stack).toContain("smtp down #1");
  expect(history[0].started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(history[0].finished_at).toMatch(/Z$/);
  expect(history[0].duration_ms).toBeGreaterThanOrEqual(0);
  expect(history[0].worker).toBeString();
  expect(seen.body.data.queue).toBe("default");
  const owner = await app.call("GET", `/api/job_statuses/${id}`, { token: ana.token });
  expect(owner.status).toBe(200);
  expect(owner.body.data.attempts_history).toBeUndefined();
  expect(owner.body.data.error).toBeUndefined();
  const listed = await app.call("GET", "/api/job_statuses?queue=default", { token: admin.token });
  expect(listed.body.data.map((j: { id: string }) => j.id)).toEqual([id]);
  expect(listed.body.data[0].attempts_history).toBeUndefined(); // lists stay light
  const full = await app.call("GET", `/api/admin/jobs/${id}`, { token: admin.token });
  expect(full.body.data.attemptsHistory.map((a: { outcome: string; startedAt: number }) => [a.outcome, typeof a.startedAt])).toEqual([["failed", "number"], ["failed", "number"], ["succeeded", "number"]]);
});

test("DELETE /api/admin/jobs/:id removes a finished job (204), refuses an unfinished one (409), and 404s an unknown one", async () => {
  const waiting = queue.enqueue({ type: "t" });
  const cancelled = queue.enqueue({ type: "t" });
  queue.cancel(cancelled);
  const gone = await app.call("DELETE", `/api/admin/jobs/${cancelled}`, { token: admin.token });
  expect(gone.status).toBe(204);
  expect((await app.call("GET", `/api/job_statuses/${cancelled}`, { token: admin.token })).status).toBe(404);
  const refused = await app.call("DELETE", `/api/admin/jobs/${waiting}`, { token: admin.token });
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe("CONFLICT");
  expect(queue.getStatus(waiting)?.status).toBe("enqueued");
  expect((await app.call("DELETE", `/api/admin/jobs/${cancelled}`, { token: admin.token })).status).toBe(404);
});

test("the queue routes are documented in /openapi.json", async () => {
  const doc = (await app.call("GET", "/openapi.json")).body;
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/queues", "/api/queues/{name}/pause", "/api/queues/{name}/resume"]));
  expect(doc.paths["/api/queues"].get.operationId).toBe("listQueues");
  expect(doc.paths["/api/admin/jobs/{id}"].delete.operationId).toBe("deleteAdminJob");
  expect(doc.components.schemas.NamedQueue.properties.rate_limit).toBeDefined();
  expect(doc.components.schemas.JobAttempt.properties.outcome).toBeDefined();
});
