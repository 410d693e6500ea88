// Backroom's metrics: HTTP requests, the job lifecycle (a StatusSink), gauges read when
// scraped (jobs by type and state, named queues' pause, limit and running jobs, file and WAL
// size, and with store and forward the jobs not yet forwarded), and the standard process_*
// families (process-metrics.ts).
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";
import type { Db } from "../db/open.ts";
import { outboxBacklog } from "../events/outbox.ts";
import type { QueueDefinitions } from "../jobs/named-queues.ts";
import type { Awaitable, QueueState, StateCount, StatusSink } from "../jobs/queue.ts";
import { Counter, DURATION_BUCKETS, Gauge, Histogram, Registry } from "./metrics.ts";
import { addProcessMetrics } from "./process-metrics.ts";

/** Where `backroom_jobs` is read when the jobs do not (all) live in the file. */
export interface JobGauges {
  /** This process's jobs by type and state. */
  counts(): Awaitable<StateCount[]>;
  /** Store and forward: jobs in the file not yet forwarded, and when the oldest of them was written. */
  unforwarded?(): { n: number; oldestCreatedAt: number | null };
}

export class BackroomMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = this.registry.add(new Counter("backroom_http_requests_total", "HTTP requests answered, by method, route and status."));
  private readonly httpDuration = this.registry.add(new Histogram("backroom_http_request_duration_seconds", "Time to answer an HTTP request.", DURATION_BUCKETS));
  private readonly jobsFinished = this.registry.add(new Counter("backroom_jobs_finished_total", "Job attempts finished, by type and outcome (succeeded, failed, dead, requeued)."));
  private readonly jobRuntime = this.registry.add(new Histogram("backroom_job_run_seconds", "Time from an attempt's start to its outcome, by type.", DURATION_BUCKETS));
  private readonly queueWait = this.registry.add(new Histogram("backroom_job_queue_wait_seconds", "Time from enqueue to the first attempt's start, by type.", [...DURATION_BUCKETS, 300, 3600]));
  private readonly started = new Map<string, number>();
  /**
   * Each request observes two series, found by route, method and status in nested maps: two
   * label-set lookups cost 0.7 µs a request, and one key string built per request (a number
   * formatted, a string hashed) still showed in a status read's profile.
   */
  private readonly requestSeries = new Map<string, Map<string, Map<number, RequestSeries>>>();

  /** `jobs`: where the job counts come from; by default every job in the file, succeeded ones too. */
  constructor(db: Db, jobs?: JobGauges, now: () => number = Date.now) {
    const counts = jobs
      ? async () => (await jobs.counts()).map((r) => ({ labels: { type: r.type, state: r.status }, value: r.n }))
      : () => (db.sqlite.query("SELECT type, status, count(*) AS n FROM jobs GROUP BY type, status").all() as { type: string; status: string; n: number }[]).map((r) => ({ labels: { type: r.type, state: r.status }, value: r.n }));
    this.registry.add(new Gauge("backroom_jobs", jobs ? "This process's unfinished, dead and cancelled jobs, by type and state." : "Jobs in the database, by type and state.", counts));
    const unforwarded = jobs?.unforwarded?.bind(jobs);
    if (unforwarded) {
      this.registry.add(new Gauge("backroom_jobs_unforwarded", "Jobs written to this till's file and not yet forwarded to the shared queue.", () => [{ value: unforwarded().n }]));
      this.registry.add(new Gauge("backroom_jobs_unforwarded_oldest_age_seconds", "How long the oldest job not yet forwarded has waited (0 when none).", () => {
        const oldest = unforwarded().oldestCreatedAt;
        return [{ value: oldest === null ? 0 : Math.max(0, now() - oldest) / 1000 }];
      }));
    }
    // What waits for a network broker (the event outbox): it grows while the broker is away, and
    // nothing is dropped from it, so this is the number to alert on.
    const outbox = () => {
      try {
        return outboxBacklog(db);
      } catch {
        return { n: 0, oldestCreatedAt: null }; // a file without the outbox (a bare queue's)
      }
    };
    this.registry.add(new Gauge("backroom_event_outbox_events", "Events written to the outbox and not yet acknowledged by the network broker.", () => [{ value: outbox().n }]));
    this.registry.add(new Gauge("backroom_event_outbox_oldest_age_seconds", "How long the oldest event in the outbox has waited for the broker (0 when none).", () => {
      const oldest = outbox().oldestCreatedAt;
      return [{ value: oldest === null ? 0 : Math.max(0, now() - oldest) / 1000 }];
    }));
    this.registry.add(new Gauge("backroom_db_size_bytes", "Size of the database file.", () => [{ value: fileSize(db.path) }]));
    this.registry.add(new Gauge("backroom_db_wal_size_bytes", "Size of the write-ahead log.", () => [{ value: fileSize(`${db.path}-wal`) }]));
    addProcessMetrics(this.registry);
  }

  /**
   * Named queues' gauges, read when scraped: paused (1/0), the declared concurrency limit (per
   * process; queues without one have no sample), and running jobs (in every process on the queue).
   */
  watchQueues(states: () => Awaitable<QueueState[]>, declared: QueueDefinitions = {}): void {
    // One read of the queue states serves the three gauges of a scrape.
    let pending: Promise<QueueState[]> | null = null;
    const read = () => (pending ??= Promise.resolve().then(states).finally(() => setTimeout(() => (pending = null), 0)));
    const names = async () => {
      const known = await read();
      const seen = new Set(known.map((q) => q.name));
      return [...known, ...Object.keys(declared).filter((n) => !seen.has(n)).map((name) => ({ name, paused: false, counts: { running: 0 } }))];
    };
    this.registry.add(new Gauge("backroom_queue_paused", "Whether a named queue is paused (1) or running (0).", async () => (await names()).map((q) => ({ labels: { queue: q.name }, value: q.paused ? 1 : 0 }))));
    this.registry.add(new Gauge("backroom_queue_limit", "A named queue's concurrency limit per process (queues without one have none).", () =>
      Object.entries(declared).filter(([, d]) => d.concurrency !== undefined).map(([name, d]) => ({ labels: { queue: name }, value: d.concurrency! }))));
    this.registry.add(new Gauge("backroom_queue_running", "Jobs of a named queue running now, in every process on the queue.", async () => (await names()).map((q) => ({ labels: { queue: q.name }, value: q.counts.running }))));
  }

  /** For the worker: counts outcomes and times attempts. */
  readonly sink: StatusSink = {
    record: (changes) => {
      for (const c of changes) {
        const type = c.job.type;
        if (c.status === "running") {
          this.started.set(c.job.id, c.at);
          if (c.job.attempt === 1) this.queueWait.observe({ type }, Math.max(0, c.at - c.job.createdAt) / 1000);
          continue;
        }
        const outcome = c.status === "enqueued" ? "requeued" : c.status;
        this.jobsFinished.inc({ type, outcome });
        const start = this.started.get(c.job.id);
        if (start !== undefined) {
          this.jobRuntime.observe({ type }, Math.max(0, c.at - start) / 1000);
          this.started.delete(c.job.id);
        }
      }
    },
  };

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    let methods = this.requestSeries.get(route);
    if (!methods) this.requestSeries.set(route, (methods = new Map()));
    let statuses = methods.get(method);
    if (!statuses) methods.set(method, (statuses = new Map()));
    let series = statuses.get(status);
    if (!series) {
      series = { count: this.httpRequests.series({ method, route, status: String(status) }), duration: this.httpDuration.observer({ method, route }) };
      statuses.set(status, series);
    }
    series.count.value++;
    series.duration(seconds);
  }

  render(): Promise<string> {
    return this.registry.render();
  }
}

interface RequestSeries {
  count: { value: number };
  duration: (seconds: number) => void;
}

function fileSize(path: string): number {
  try {
    return fs.statSync(path).size;
  } catch {
    return 0;
  }
}
