// `backroom queues list|pause|resume`, on the database file or, with --queue postgres://…, on
// the shared queue. A queue is shown as GET /api/queues shows it (its serializer, not a second
// one). Pausing needs the file to itself (as `jobs retry` does): while the server runs, pause
// through the API or the dashboard. Usage mistakes throw UsageError (exit 2).
import { listQueues, queueToJson } from "../api/queue-routes.ts";
import { QUEUE_NAME } from "../jobs/types.ts";
import type { AppDefinition } from "../runtime/define.ts";
import { UsageError, type FlagValues } from "./args.ts";
import { openTarget } from "./jobs.ts";

type Print = (line: string) => void;

export async function queuesCommand(app: AppDefinition, action: string | undefined, args: string[], flags: FlagValues, print: Print = console.log): Promise<void> {
  if (!["list", "pause", "resume"].includes(action ?? "")) throw new UsageError("queues needs one of: list, pause <name>, resume <name>");
  const name = args[0];
  if (action !== "list") {
    if (!name) throw new UsageError(`usage: backroom queues ${action} <name>`);
    if (!QUEUE_NAME.test(name)) throw new UsageError(`"${name}" is not a queue name (1–64 of a-z 0-9 _ . - starting with a letter or digit)`);
  }
  const { queue, close } = await openTarget(app, flags, action === "list");
  try {
    const declared = app.queues ?? {};
    if (action !== "list") {
      await queue.setQueuePaused(name!, action === "pause");
      return print(`queue ${name} ${action === "pause" ? "paused: it accepts jobs and runs none until resumed" : "resumed"}`);
    }
    const queues = (await listQueues(queue, declared)).map((s) => queueToJson(s, declared));
    if (flags.json) return print(JSON.stringify(queues, null, 2));
    for (const q of queues) {
      const c = q.counts;
      const limit = q.concurrency === null ? "pool" : `limit ${q.concurrency}`;
      print(`${q.name.padEnd(16)} ${(q.paused ? "paused" : "running").padEnd(8)} ${limit.padEnd(9)} enqueued ${c.enqueued}  running ${c.running}  failed ${c.failed}  dead ${c.dead}  succeeded ${c.succeeded}  cancelled ${c.cancelled}`);
    }
    print(`${queues.length} queue(s)`);
  } finally {
    await close();
  }
}
