// bench/queue.ts's workload over any queue adapter, for bench/adapters.ts: enqueue J jobs one
// by one (each its own transaction, as requests would), then process them through the real
// Worker with a no-op handler at concurrency 8, status rows included. Synchronous adapters
// (SQLite) are not awaited per enqueue, so they pay no extra microtask that bench/queue.ts
// does not; network ones are awaited, one round trip each.
import type { Awaitable, Queue, Source } from "../../src/jobs/queue.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { perSecond } from "./files.ts";

export const CONCURRENCY = 8;
const payload = (i: number) => ({ order_id: i, customer: "ana@example.com" });

export interface QueueRates {
  enqueue: number;
  process: number;
}

/** `succeeded()` reads the engine's own count of succeeded jobs: the run fails unless it is J. */
export async function queueLoad(queue: Queue & Source, jobs: number, succeeded: () => Awaitable<number>): Promise<QueueRates> {
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    const id = queue.enqueue({ type: "noop", payload: payload(i) });
    if (id instanceof Promise) await id;
  }
  const t1 = performance.now();
  let handled = 0;
  const worker = new Worker({ source: queue, handlers: { noop: () => void handled++ }, concurrency: CONCURRENCY, logger: silentLogger }).start();
  await worker.whenIdle();
  const t2 = performance.now();
  await worker.shutdown();
  const done = await succeeded();
  if (done !== jobs || handled !== jobs) throw new Error(`${jobs} jobs enqueued, ${handled} handled, ${done} succeeded`);
  return { enqueue: perSecond(jobs, t1 - t0), process: perSecond(jobs, t2 - t1) };
}
