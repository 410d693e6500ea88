// The benchmark must keep working (it is how the throughput bars are checked); this runs it
// on a tiny workload and checks the shape of its JSON lines — no timing is asserted.
import { expect, test } from "bun:test";

test("bench/queue.ts prints a JSON line per mode with rates, ratios and bars", () => {
  const run = Bun.spawnSync([process.execPath, "bench/queue.ts", "--jobs", "300", "--rounds", "1", "--sync", "normal", "--latency-samples", "20", "--no-million"], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(run.exitCode).toBe(0);
  const lines = run.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.map((l) => l.mode)).toEqual(["NORMAL", "latency"]);
  const rates = { enqueue: expect.any(Number), process: expect.any(Number) };
  expect(lines[0]).toMatchObject({ bench: "queue", jobs: 300, backroom: rates, raw_per_transition: rates, raw_batch_64: rates, plainjob: rates });
  expect(Object.values(lines[0].bars).every((v) => typeof v === "boolean")).toBe(true);
  expect(lines[1]).toMatchObject({ samples: 20, p50_ms: expect.any(Number), p99_ms: expect.any(Number) });
});

test("bench/million.ts processes every job it enqueues and reports memory", () => {
  const run = Bun.spawnSync([process.execPath, "bench/million.ts", "2000"], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  const line = JSON.parse(run.stdout.toString());
  expect(line).toMatchObject({ mode: "million", jobs: 2000, succeeded: 2000, rss_mb: { peak: expect.any(Number) } });
});

test("bench/events.ts delivers every event in-process and to every WebSocket client", () => {
  const run = Bun.spawnSync([process.execPath, "bench/events.ts", "--events", "500", "--clients", "5", "--fanout", "10"], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  const [inProcess, fanout] = run.stdout.toString().trim().split("\n").map((l) => JSON.parse(l));
  expect(inProcess).toMatchObject({ case: "in_process", events: 500, deliveries: 1800 });
  expect(fanout).toMatchObject({ case: "realtime_fanout", messages: 50, expected: 50, p99_ms: expect.any(Number) });
});

test("bench/adapters.ts checks off every delivery and reports each queue; an engine without its URL says skipped", () => {
  const env = { ...process.env };
  delete env.NATS_URL;
  const run = Bun.spawnSync([process.execPath, "bench/adapters.ts", "--only", "in_process,nats,sqlite", "--scale", "0.002", "--jobs", "200", "--rounds", "1", "--probe", "20"], { stdout: "pipe", stderr: "pipe", env });
  expect(run.exitCode).toBe(0);
  const lines = run.stdout.toString().trim().split("\n");
  expect(lines.some((l) => /nats\s+skipped \(set NATS_URL\)/.test(l))).toBe(true);
  const figures = JSON.parse(lines.at(-1)!);
  expect(figures.buses.in_process).toMatchObject({ ok: true, expected_deliveries: 10_000, delivered: 10_000, missing: 0, p99_ms: expect.any(Number) });
  expect(figures.buses.nats).toEqual({ skipped: "set NATS_URL" });
  expect(figures.queues.sqlite_normal).toMatchObject({ enqueue_jobs_per_s: expect.any(Number), process_jobs_per_s: expect.any(Number) });
}, 60_000);

test.skipIf(!process.env.REDIS_URL)("bench/redis-listing.ts times a page through the index and by scanning, on the same jobs", () => {
  const run = Bun.spawnSync([process.execPath, "bench/redis-listing.ts", "--jobs", "600"], { stdout: "pipe", stderr: "pipe" });
  expect(run.exitCode).toBe(0);
  const figures = JSON.parse(run.stdout.toString().trim().split("\n").at(-1)!);
  expect(figures.pages.newest).toMatchObject({ rows: 25, indexed_ms: expect.any(Number), scan_ms: expect.any(Number) });
  expect(figures.pages.dead_of_one_type.rows).toBe(1); // one in 50 dies: the first 12 jobs, of types 0–9, 0, 1
}, 60_000);
