// The registry's gauges are read at scrape time, some from another server: one that fails or
// hangs must leave its own series out, never the scrape.
import { expect, test } from "bun:test";
import { Counter, Gauge, Registry } from "../../src/ops/metrics.ts";
import { addProcessMetrics } from "../../src/ops/process-metrics.ts";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";

test("a gauge that throws, rejects or hangs is rendered without samples; the others are served", async () => {
  const registry = new Registry();
  registry.add(new Counter("served_total", "A counter.")).inc({ kind: "a" });
  registry.add(new Gauge("throws", "Throws.", () => { throw new Error("no"); }));
  registry.add(new Gauge("rejects", "Rejects.", async () => { throw new Error("no"); }));
  registry.add(new Gauge("hangs", "Never answers.", () => new Promise(() => {}), 50));
  registry.add(new Gauge("answers", "Answers late but in time.", async () => (await Bun.sleep(5), [{ labels: { state: "dead" }, value: 3 }]), 1_000));
  const text = await registry.render();
  expect(text).toContain('served_total{kind="a"} 1\n');
  expect(text).toContain('answers{state="dead"} 3\n');
  for (const name of ["throws", "rejects", "hangs"]) {
    expect(text).toContain(`# TYPE ${name} gauge\n`);
    expect(text).not.toMatch(new RegExp(`^${name}[ {]`, "m"));
  }
});

test("the process collector's families, under Prometheus's standard names and types, with live values", async () => {
  const registry = new Registry();
  addProcessMetrics(registry);
  const text = await registry.render();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1]);
  expect(text).toContain("# TYPE process_cpu_seconds_total counter\n");
  for (const name of ["process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds", "process_max_fds"]) expect(text).toContain(`# TYPE ${name} gauge\n`);
  expect(value("process_cpu_seconds_total")).toBeGreaterThan(0);
  expect(value("process_resident_memory_bytes")).toBeGreaterThan(10 * 1024 * 1024);
  const started = value("process_start_time_seconds");
  expect(started).toBeLessThanOrEqual(Date.now() / 1000);
  expect(started).toBeGreaterThan(Date.now() / 1000 - process.uptime() - 5);
  expect(value("process_open_fds")).toBeGreaterThan(2);
  const before = value("process_cpu_seconds_total");
  let spin = 0;
  for (const end = performance.now() + 50; performance.now() < end; ) spin++;
  expect(spin).toBeGreaterThan(0);
  const after = Number(/^process_cpu_seconds_total (\S+)$/m.exec(await registry.render())?.[1]);
  expect(after).toBeGreaterThan(before);
});

test("named queues' gauges: paused, the declared limit and running jobs per queue", async () => {
  const db = openDatabase(":memory:", { migrations: jobsMigrations });
  const queue = new SqliteQueue(db);
  const metrics = new BackroomMetrics(db);
  metrics.watchQueues(() => queue.queueStates(), { mail: { concurrency: 3 }, reports: {} });
  queue.setQueuePaused("mail", true);
  queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t", queue: "mail" }]);
  await queue.settleAndClaim([], 2, 30_000);
  const text = await metrics.render();
  expect(text).toContain('backroom_queue_paused{queue="mail"} 1\n');
  expect(text).toContain('backroom_queue_paused{queue="default"} 0\n');
  expect(text).toContain('backroom_queue_paused{queue="reports"} 0\n');
  expect(text).toContain('backroom_queue_limit{queue="mail"} 3\n');
  expect(text).not.toContain('backroom_queue_limit{queue="default"}');
  expect(text).toContain('backroom_queue_running{queue="default"} 2\n');
  expect(text).toContain('backroom_queue_running{queue="mail"} 0\n');
  db.close();
});
