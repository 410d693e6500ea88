// The last hour of job outcomes, per minute and per named queue, in memory: the dashboard's
// throughput and failure-rate charts without scanning a table of a million finished jobs.
// Counts are of transitions: `succeeded` and `dead` are jobs reaching those states, `failed`
// is attempts that failed with a retry scheduled (one job can fail several times).
import type { StatusSink } from "../jobs/queue.ts";

export interface Outcomes {
  succeeded: number;
  failed: number;
  dead: number;
}

export interface MinuteActivity extends Outcomes {
  minute: number;
}

export interface QueueActivity extends Outcomes {
  queue: string;
}

interface Bucket extends MinuteActivity {
  queues: Map<string, Outcomes>;
}

const HOUR = 60 * 60_000;

export class Activity {
  private readonly minutes = new Map<number, Bucket>();
  readonly sink: StatusSink = {
    record: (changes) => {
      for (const c of changes) {
        if (c.status !== "succeeded" && c.status !== "failed" && c.status !== "dead") continue;
        const minute = Math.floor(c.at / 60_000) * 60_000;
        let m = this.minutes.get(minute);
        if (!m) {
          this.minutes.set(minute, (m = { minute, succeeded: 0, failed: 0, dead: 0, queues: new Map() }));
          for (const key of this.minutes.keys()) if (key < minute - HOUR) this.minutes.delete(key);
        }
        m[c.status]++;
        let q = m.queues.get(c.job.queue);
        if (!q) m.queues.set(c.job.queue, (q = { succeeded: 0, failed: 0, dead: 0 }));
        q[c.status]++;
      }
    },
  };

  /** 60 buckets, oldest first, ending with the current minute. */
  lastHour(now = Date.now()): MinuteActivity[] {
    const current = Math.floor(now / 60_000) * 60_000;
    return Array.from({ length: 60 }, (_, i) => {
      const minute = current - (59 - i) * 60_000;
      const m = this.minutes.get(minute);
      return m ? { minute, succeeded: m.succeeded, failed: m.failed, dead: m.dead } : { minute, succeeded: 0, failed: 0, dead: 0 };
    });
  }

  /** The same hour's outcomes per queue (queues with none left out), by name. */
  lastHourByQueue(now = Date.now()): QueueActivity[] {
    const from = Math.floor(now / 60_000) * 60_000 - 59 * 60_000;
    const totals = new Map<string, QueueActivity>();
    for (const [minute, m] of this.minutes) {
      if (minute < from || minute > now) continue;
      for (const [queue, o] of m.queues) {
        const t = totals.get(queue) ?? { queue, succeeded: 0, failed: 0, dead: 0 };
        t.succeeded += o.succeeded, t.failed += o.failed, t.dead += o.dead;
        totals.set(queue, t);
      }
    }
    return [...totals.values()].sort((a, b) => (a.queue < b.queue ? -1 : 1));
  }
}
