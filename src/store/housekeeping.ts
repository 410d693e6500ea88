// The store's scheduled work: the end-of-day report, mailed to the manager, and retention, so
// an edge device's disk does not fill with finished jobs and old idempotency keys.
import { pruneIdempotencyKeys } from "../models/idempotency.ts";
import type { Services } from "../models/services.ts";
import type { ScheduleDefinition } from "../cron/scheduler.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { Mailer } from "./mailer.ts";
import { DEFAULT_HOUSEKEEPING, type HousekeepingOptions } from "./housekeeping-defaults.ts";

export { DEFAULT_HOUSEKEEPING, type HousekeepingOptions };

export const storeSchedules: ScheduleDefinition[] = [
  // Local time of the till (no timezone): the report covers the local calendar day.
  { name: "daily_report", schedule: "55 23 * * *", type: "daily_report", catchUp: "all" },
  { name: "retention", schedule: "17 * * * *", type: "prune_finished", catchUp: "skip" },
];

const DAY = 86_400_000;
const CHUNK = 5_000;

export function housekeepingHandlers(services: Services, mailer: Mailer, options: HousekeepingOptions): Record<string, Handler> {
  return {
    daily_report: async (job) => {
      const at = Date.parse(job.headers["x-cron-fire-at"] ?? "") || Date.now();
      const start = new Date(at);
      start.setHours(0, 0, 0, 0);
      const day = `${start.getFullYear()}-${String(start.getMonth() + 1).padStart(2, "0")}-${String(start.getDate()).padStart(2, "0")}`;
      const { orders, revenue } = services.db.sqlite
        .query("SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS revenue FROM orders WHERE status = 'placed' AND created_at >= ? AND created_at <= ?")
        .get(start.getTime(), at) as { orders: number; revenue: number };
      const sent = await mailer.send({
        to: options.reportTo,
        subject: `Daily report ${day}: ${orders} orders, ${(revenue / 100).toFixed(2)}`,
        text: `Orders placed on ${day}: ${orders}\nRevenue: ${(revenue / 100).toFixed(2)}\n`,
        messageId: `<daily-report-${day}@backroom.local>`,
      });
      return { output: { day, orders, revenue_cents: revenue }, url: sent.url, mime: "message/rfc822" };
    },
    // Deletes in chunks, yielding between them, so the till keeps answering while it runs.
    prune_finished: async () => {
      const now = Date.now();
      let jobs = 0;
      for (const [statuses, days] of [[["succeeded", "cancelled"], options.keepJobsDays], [["dead"], options.keepDeadDays]] as const) {
        for (let deleted = CHUNK; deleted === CHUNK; jobs += deleted) {
          deleted = await services.queue.pruneFinished(statuses, now - days * DAY, CHUNK);
          await Bun.sleep(0);
        }
      }
      const keys = pruneIdempotencyKeys(services.db, now - options.keepIdempotencyHours * 3_600_000);
      return { output: { jobs_deleted: jobs, idempotency_keys_deleted: keys } };
    },
  };
}
