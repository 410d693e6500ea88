// Named queues' states as every engine reports them: counts by status added up from parts.
import type { QueueState } from "./queue.ts";
import { JOB_STATUSES, type JobStatus } from "./types.ts";

export function emptyCounts(): Record<JobStatus, number> {
  return Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
}

/** Queue states from pause rows and (queue, status, n) count rows, merged by name, sorted. */
export function mergeQueueStates(paused: Iterable<{ name: string; paused: boolean }>, counts: Iterable<{ queue: string; status: string; n: number }>): QueueState[] {
  const states = new Map<string, QueueState>();
  const of = (name: string) => {
    let state = states.get(name);
    if (!state) states.set(name, (state = { name, paused: false, counts: emptyCounts() }));
    return state;
  };
  for (const p of paused) of(p.name).paused = Boolean(p.paused);
  for (const c of counts) {
    const counts = of(c.queue).counts;
    if (c.status in counts) counts[c.status as JobStatus] += Number(c.n);
  }
  return [...states.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
