// The last hour of job outcomes, per minute, in memory: the dashboard's throughput and
// failure-rate charts without scanning a table of a million finished jobs.
import type { StatusSink } from "../jobs/queue.ts";

export interface MinuteActivity {
  minute: number;
  succeeded: number;
  failed: number;
  dead: number;
}

export class Activity {
  private readonly minutes = new Map<number, MinuteActivity>();
  readonly sink: StatusSink = {
    record: (changes) => {
      for (const c of changes) {
        if (c.status !== "succeeded" && c.status !== "failed" && c.status !== "dead") continue;
        const minute = Math.floor(c.at / 60_000) * 60_000;
        let m = this.minutes.get(minute);
        if (!m) {
          this.minutes.set(minute, (m = { minute, succeeded: 0, failed: 0, dead: 0 }));
          for (const key of this.minutes.keys()) if (key < minute - 60 * 60_000) this.minutes.delete(key);
        }
        m[c.status]++;
      }
    },
  };

  /** 60 buckets, oldest first, ending with the current minute. */
  lastHour(now = Date.now()): MinuteActivity[] {
    const current = Math.floor(now / 60_000) * 60_000;
    return Array.from({ length: 60 }, (_, i) => {
      const minute = current - (59 - i) * 60_000;
      return this.minutes.get(minute) ?? { minute, succeeded: 0, failed: 0, dead: 0 };
    });
  }
}
