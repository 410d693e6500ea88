// The peer: plainjob, a real SQLite job queue for Bun, on the same no-op workload at its own
// defaults (synchronous=NORMAL, one job at a time, its own polling).
import { Database } from "bun:sqlite";
import { bun, defineQueue, defineWorker, JobStatus } from "plainjob";
import { freshPath, perSecond } from "./files.ts";

const quiet = { error() {}, warn() {}, info() {}, debug() {} };

export async function plainjobQueue(jobs: number, payload: (i: number) => unknown): Promise<{ enqueue: number; process: number }> {
  const sqlite = new Database(freshPath("plainjob"), { strict: true });
  const queue = defineQueue({ connection: bun(sqlite), logger: quiet });
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) queue.add("noop", payload(i));
  const t1 = performance.now();
  const worker = defineWorker("noop", () => {}, { queue, logger: quiet, pollIntervall: 1 });
  void worker.start();
  while (queue.countJobs({ status: JobStatus.Pending }) + queue.countJobs({ status: JobStatus.Processing }) > 0) await Bun.sleep(5);
  const t2 = performance.now();
  await worker.stop();
  queue.close();
  return { enqueue: perSecond(jobs, t1 - t0), process: perSecond(jobs, t2 - t1) };
}
