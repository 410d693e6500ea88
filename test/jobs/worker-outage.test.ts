// A network queue going away must not take a worker process down: every call the worker makes
// to its source may reject, and the worker logs, waits and tries again.
import { expect, test } from "bun:test";
import { silentLogger } from "../../src/log.ts";
import { MemoryQueue } from "../../src/jobs/memory.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { waitFor } from "../support/wait.ts";

test("a source whose nextDueAt rejects (the server is out of reach) leaves the worker running, and jobs run once it answers", async () => {
  const queue = new MemoryQueue();
  let down = true;
  let refused = 0;
  const nextDueAt = queue.nextDueAt.bind(queue);
  queue.nextDueAt = (after: number) => {
    if (!down) return nextDueAt(after);
    refused++;
    throw new Error("connection refused");
  };
  const ran: string[] = [];
  const worker = new Worker({ source: queue, handlers: { t: (job) => void ran.push(job.id) }, logger: silentLogger, pollIntervalMs: 50 }).start();
  const first = queue.enqueue({ type: "t" });
  await waitFor(() => refused >= 2, 5_000, "nextDueAt refused twice (the worker retried)");
  expect(ran).toEqual([first]); // claiming worked; only the look-ahead failed
  down = false;
  const second = queue.enqueue({ type: "t" });
  await waitFor(() => ran.length === 2, 5_000, "the next job to run");
  expect(ran).toEqual([first, second]);
  expect(worker.isRunning).toBe(true);
  await worker.shutdown(100);
});
