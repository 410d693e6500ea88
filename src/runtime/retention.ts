// Retention, built into every app: finished jobs and idempotency keys are deleted once older
// than their keep times, by a job on an hourly schedule. Deletes in chunks, yielding between
// them, so the app keeps answering while it runs.
import type { ScheduleDefinition } from "../cron/scheduler.ts";
import type { Handler } from "../jobs/attempt.ts";
import { pruneIdempotencyKeys } from "../models/idempotency.ts";
import type { Services } from "../models/services.ts";
import type { RetentionOptions } from "./settings.ts";

export { DEFAULT_RETENTION, type RetentionOptions } from "./settings.ts";

export const RETENTION_JOB = "prune_finished";

export const retentionSchedule: ScheduleDefinition = { name: "retention", schedule: "17 * * * *", type: RETENTION_JOB, catchUp: "skip" };

const DAY = 86_400_000;
const CHUNK = 5_000;

export function retentionHandler(services: Services, options: RetentionOptions): Handler {
  return async () => {
    const now = services.clock.now();
    let jobs = 0;
    for (const [statuses, days] of [[["succeeded", "cancelled"], options.keepJobsDays], [["dead"], options.keepDeadDays]] as const) {
      for (let deleted = CHUNK; deleted === CHUNK; jobs += deleted) {
        deleted = await services.queue.pruneFinished(statuses, now - days * DAY, CHUNK);
        await Bun.sleep(0);
      }
    }
    const keys = pruneIdempotencyKeys(services.db, now - options.keepIdempotencyHours * 3_600_000);
    return { output: { jobs_deleted: jobs, idempotency_keys_deleted: keys } };
  };
}
