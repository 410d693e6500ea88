// The benchmark must keep working (it is how the throughput bars are checked); this runs it
// on a tiny workload and checks the shape of its one JSON line — no timing is asserted.
import { expect, test } from "bun:test";

test("bench/queue.ts prints one JSON line with rates and ratios for both sides", () => {
  const run = Bun.spawnSync([process.execPath, "bench/queue.ts", "--jobs", "300", "--rounds", "1", "--sync", "normal"], { stdout: "pipe", stderr: "pipe" });
  expect(run.stderr.toString()).toBe("");
  expect(run.exitCode).toBe(0);
  const lines = run.stdout.toString().trim().split("\n");
  expect(lines.length).toBe(1);
  const result = JSON.parse(lines[0]!);
  const rates = { enqueue: expect.any(Number), process: expect.any(Number), end_to_end: expect.any(Number) };
  expect(result).toMatchObject({ bench: "queue", jobs: 300, concurrency: 8, modes: { NORMAL: { backroom: rates, raw: rates, ratio: rates } } });
  expect(result.peak_rss_mb).toBeGreaterThan(0);
});
