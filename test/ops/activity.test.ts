// The dashboard's last hour in memory: outcomes per minute and per named queue; transitions
// other than succeeded / failed / dead, and minutes older than the hour, are not counted.
import { expect, test } from "bun:test";
import type { StatusChange } from "../../src/jobs/queue.ts";
import type { Job, JobStatus } from "../../src/jobs/types.ts";
import { Activity } from "../../src/ops/activity.ts";

const change = (queue: string, status: JobStatus, at: number) => ({ job: { queue } as Job, status, attempts: 1, error: null, result: null, at }) as StatusChange;

test("the last hour's outcomes per queue: jobs succeeded and gone dead, attempts failed", () => {
  const activity = new Activity();
  const now = Date.UTC(2026, 11, 2, 12, 30, 10);
  const minute = 60_000;
  activity.sink.record([
    change("mail", "succeeded", now), change("mail", "succeeded", now - 5 * minute), change("mail", "failed", now - minute),
    change("mail", "dead", now - 2 * minute), change("reports", "succeeded", now - 59 * minute),
    change("reports", "running", now), change("reports", "enqueued", now), // not outcomes
    change("reports", "succeeded", now - 61 * minute), // older than the hour
  ]);
  expect(activity.lastHourByQueue(now)).toEqual([
    { queue: "mail", succeeded: 2, failed: 1, dead: 1 },
    { queue: "reports", succeeded: 1, failed: 0, dead: 0 },
  ]);
  const hour = activity.lastHour(now);
  expect(hour).toHaveLength(60);
  expect(hour.reduce((n, m) => n + m.succeeded, 0)).toBe(3);
  expect(hour.at(-1)).toEqual({ minute: Math.floor(now / minute) * minute, succeeded: 1, failed: 0, dead: 0 });
  expect(activity.lastHourByQueue(now + 2 * 60 * minute)).toEqual([]);
});
