// /metrics passes Prometheus's own linter, `promtool check metrics` (Debian's prometheus
// package; .ci/run installs it when missing).
import { expect, test } from "bun:test";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { readinessChecks } from "../../src/ops/readiness.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { storeFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

const promtool = Bun.which("promtool");
if (!promtool) console.warn("SKIPPED: promtool is not installed (apt-get install prometheus); .ci/run installs it");

test.skipIf(!promtool)("promtool check metrics accepts /metrics after real traffic", async () => {
  const store = storeFixture();
  const metrics = new BackroomMetrics(store.db);
  metrics.watchQueues(() => store.queue.queueStates(), { mail: { concurrency: 2 }, reports: {} });
  store.queue.setQueuePaused("mail", true);
  const app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger, operations: { metrics, checks: readinessChecks(store.db, storeMigrations, () => true) } });
  const worker = new Worker({ source: store.queue, handlers: app.handlers, logger: silentLogger, status: metrics.sink }).start();
  const call = request(app.app);
  const [book] = store.books();
  const { job_id } = (await call("POST", "/api/orders", { token: store.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).body.data;
  await call("GET", "/api/nothing");
  await call("POST", "/api/orders", { token: store.users.ana.token, raw: "{bad", headers: { "content-type": "application/json" } });
  await waitFor(async () => (await store.queue.getStatus(job_id))?.status === "succeeded");
  const text = await (await app.app.handle(new Request("http://localhost/metrics"))).text();
  const check = Bun.spawnSync([promtool!, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
  const output = check.stdout.toString() + check.stderr.toString();
  expect({ exit: check.exitCode, output }).toEqual({ exit: 0, output: "" });
  // The families the linter passed include the process collector's and the named queues'.
  for (const family of ["process_cpu_seconds_total counter", "process_resident_memory_bytes gauge", "process_start_time_seconds gauge", "process_open_fds gauge", "backroom_queue_paused gauge"]) expect(text).toContain(`# TYPE ${family}\n`);
  expect(text).toContain('backroom_queue_paused{queue="mail"} 1\n');
  await worker.shutdown();
  await store.close();
});
