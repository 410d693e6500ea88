// A CPU-bound job handler for bench/sandbox.ts: busy for `ms` (default 20) milliseconds. The
// same export runs inline (on the thread that answers HTTP) or sandboxed (in a pool thread).
import type { Job } from "../src/jobs/types.ts";

export function busyWork(job: Job) {
  const ms = (job.payload as { ms?: number } | null)?.ms ?? 20;
  const until = performance.now() + ms;
  let spins = 0;
  while (performance.now() < until) spins++;
  return { output: { ms, spins } };
}
