// /healthz, /readyz and /metrics.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { readinessChecks } from "../../src/ops/readiness.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "./support.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
let metrics: BackroomMetrics;
let worker: Worker | null;
let call: ReturnType<typeof request>;
let app: ReturnType<typeof createStoreApp>;
beforeEach(() => {
  store = storeFixture();
  metrics = new BackroomMetrics(store.db);
  worker = null;
  app = createStoreApp({
    db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger,
    operations: { metrics, checks: readinessChecks(store.db, storeMigrations, () => worker?.isRunning ?? false) },
  });
  call = request(app.app);
});
afterEach(async () => {
  await worker?.shutdown(500);
  await store.close();
});

test("healthz answers while the process lives; readyz waits for the worker", async () => {
  expect((await call("GET", "/healthz")).body).toEqual({ data: { status: "ok" } });
  const notReady = await call("GET", "/readyz");
  expect(notReady.status).toBe(503);
  expect(notReady.body.error).toMatchObject({ code: "NOT_READY", details: [{ field: "worker_running", message: "the worker is not running" }] });
  worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger, status: metrics.sink }).start();
  const ready = await call("GET", "/readyz");
  expect(ready.status).toBe(200);
  expect(ready.body.data.checks.map((c: any) => [c.name, c.ok])).toEqual([["database_writable", true], ["worker_running", true], ["migrations_current", true]]);
});

test("metrics: jobs by type and state, finished totals, run and wait histograms, HTTP counts, db and WAL size", async () => {
  worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger, status: metrics.sink }).start();
  const [book] = store.books();
  const { job_id } = (await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).body.data;
  await waitFor(async () => (await store.queue.getStatus(job_id))?.status === "succeeded");
  await call("GET", "/api/nothing");
  const reply = await app.app.handle(new Request("http://localhost/metrics"));
  expect(reply.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await reply.text();
  expect(text).toContain('backroom_jobs{type="send_receipt",state="succeeded"} 1');
  expect(text).toContain('backroom_jobs_finished_total{type="send_receipt",outcome="succeeded"} 1');
  expect(text).toMatch(/backroom_job_run_seconds_count\{type="send_receipt"\} 1/);
  expect(text).toMatch(/backroom_job_queue_wait_seconds_bucket\{type="send_receipt",le="\+Inf"\} 1/);
  expect(text).toContain('backroom_http_requests_total{method="POST",route="/api/orders",status="202"} 1');
  expect(text).toMatch(/backroom_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
  expect(text).toMatch(/backroom_db_size_bytes \d+/);
  expect(text).toMatch(/backroom_db_wal_size_bytes \d+/);
  for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [-+\d.e]+|\w+(\{[^}]*\})? \+Inf)$/);
});

test("metrics count each request once, under the status it answered: 200, 201 by status(), 204 by a Response, 403 by an error", async () => {
  const admin = store.users.admin.token;
  const { ana } = store.users;
  expect((await call("GET", "/api/books?limit=2")).status).toBe(200);
  expect((await call("GET", "/api/books?limit=2")).status).toBe(200);
  const issued = await call("POST", `/api/users/${ana.id}/tokens`, { token: admin });
  expect(issued.status).toBe(201);
  expect((await call("DELETE", `/api/tokens/${issued.body.data.id}`, { token: admin })).status).toBe(204);
  expect((await call("GET", "/api/users", { token: ana.token })).status).toBe(403);
  const text = await (await app.app.handle(new Request("http://localhost/metrics"))).text();
  expect(text).toContain('backroom_http_requests_total{method="GET",route="/api/books",status="200"} 2');
  expect(text).toContain('backroom_http_requests_total{method="POST",route="/api/users/:id/tokens",status="201"} 1');
  expect(text).toContain('backroom_http_requests_total{method="DELETE",route="/api/tokens/:id",status="204"} 1');
  expect(text).toContain('backroom_http_requests_total{method="GET",route="/api/users",status="403"} 1');
  expect(text).toContain('backroom_http_request_duration_seconds_count{method="GET",route="/api/books"} 2');
});
