// The dead-letter job's payload: the seeds' names (a DLQ handler written for them works
// unchanged) beside ours.
import { expect, test } from "bun:test";
import { deadLetterFor } from "../../src/jobs/dead-letter.ts";
import { TestRuntime } from "../../src/testing/runtime.ts";

test("a dead job's letter carries original_type, original_id, original_payload and error (the seeds' names), and ours too", async () => {
  const letters: unknown[] = [];
  const runtime = new TestRuntime({
    handlers: { sync_stock: () => Promise.reject(new Error("410 gone")), dlq: (job) => void letters.push(job.payload) },
    deadLetterType: "dlq",
  });
  const id = runtime.queue.enqueue({ type: "sync_stock", maxRetry: 1, payload: { sku: "b-1" }, actorId: "u1" });
  await runtime.drain();
  expect(letters).toEqual([{
    original_type: "sync_stock", original_id: id, original_payload: { sku: "b-1" }, error: "410 gone",
    job_id: id, type: "sync_stock", payload: { sku: "b-1" }, attempts: 1, actor_id: "u1", tenant_id: null,
  }]);
  await runtime.close();
});

test("a dead letter that dies is not dead-lettered again", () => {
  const job = { id: "01J", type: "dlq", payload: {}, attempt: 1, actorId: null, tenantId: null, traceId: null } as unknown as Parameters<typeof deadLetterFor>[0];
  expect(deadLetterFor(job, "x", "dlq")).toBeNull();
});
