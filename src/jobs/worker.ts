// The worker pool: claims jobs from a Source, runs their handlers with bounded concurrency,
// and reports outcomes back in batches.
//
// Invariants:
// - A job's outcome is reported to status sinks (and so to events) only after the source has
//   made it durable.
// - An outcome is never dropped: if the source cannot write, the batch is kept and retried.
// - A handler that throws, rejects or outlives its timeout fails that attempt only.
import { systemClock, type Clock } from "../clock.ts";
import { errorMessage, jsonLogger, type Logger } from "../log.ts";
import { Attempt, DeadlineWatch, type Handler } from "./attempt.ts";
import { afterFailure, type BackoffOptions } from "./backoff.ts";
import { MAX_REQUEUES, UNHANDLED_REQUEUE_DELAY_MS, type Outcome, type Source, type StatusChange, type StatusSink } from "./queue.ts";
import { checkQueueDefinitions, RateWindow, type QueueDefinitions } from "./named-queues.ts";
import type { Job } from "./types.ts";

export type { Handler, JobContext } from "./attempt.ts";

export interface WorkerOptions {
  source: Source;
  handlers: Record<string, Handler>;
  /** Handlers running at once. Default: the number of CPUs. */
  concurrency?: number;
  /** Observers of every transition (status persistence for other back-ends, events, metrics). */
  status?: StatusSink | StatusSink[];
  /** Dead jobs are handed to a job of this type (the seeds' DLQType). */
  deadLetterType?: string;
  logger?: Logger;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** How long a claim holds a job without being renewed. Default 30 s; renewed every third of it. */
  leaseMs?: number;
  /** Timeout of an attempt whose job sets none. Default 5 minutes. */
  defaultTimeoutMs?: number;
  /** Finished attempts wait at most this long to be written together. Default 2 ms. */
  completionDelayMs?: number;
  /** …or until this many have finished. Default 64. */
  completionBatchSize?: number;
  /** Longest sleep while idle: a safety net for jobs written by another process. Default 5 s. */
  pollIntervalMs?: number;
  /** The most jobs claimed ahead of free slots, so a finishing handler's slot is refilled
   * without waiting for a claim. Adaptive: it starts at the concurrency and grows (up to this)
   * only while handlers finish as fast as jobs are claimed — short jobs get big batches per
   * commit, slow ones are not claimed long before they can start. Default 256; 0 = none. */
  prefetch?: number;
  /**
   * Named queues' limits: `concurrency`, the most jobs of the queue this worker holds at once
   * (running, or claimed ahead), and `rateLimit`, the most it claims per interval. A queue
   * without them shares the pool. Both are per worker (per process), as Oban's local limit;
   * pauses are stored in the queue engine (`paused` here is for the runtime's first start).
   */
  queues?: QueueDefinitions;
}

export class Worker {
  private readonly source: Source;
  private readonly handlers: Record<string, Handler>;
  private readonly concurrency: number;
  private readonly sinks: StatusSink[];
  /** Sinks that belong in the settle's transaction (the event outbox). */
  private readonly transactionalSinks: StatusSink[];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly defaultTimeoutMs: number;
  private readonly completionDelayMs: number;
  private readonly completionBatchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxPrefetch: number;
  private prefetch: number;
  /** Limited queues: name → limit. */
  private readonly limits = new Map<string, number>();
  /** Jobs of limited queues this worker holds (claimed, not yet settled), by id → queue. */
  private readonly heldIds = new Map<string, string>();
  private readonly heldByQueue = new Map<string, number>();
  private readonly rates = new Map<string, RateWindow>();

  private readonly running = new Map<string, Attempt>();
  private readonly deadlines = new DeadlineWatch(() => this.running.values());
  /** Claimed (running in the queue, lease held) but not started yet. */
  private buffer: Job[] = [];
  /** Buffered jobs whose attempt the queue has not counted (claimed ahead of a free slot). */
  private readonly claimedAhead = new Set<string>();
  /** Claimed-ahead jobs started since the last write: their attempts are counted with it. */
  private startedAhead: string[] = [];
  private pending: Outcome[] = [];
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private started = false;
  private stopping = false;
  private unsubscribe: (() => void) | null = null;
  private wakeTimer: Timer | null = null;
  private flushTimer: Timer | null = null;
  private leaseTimer: Timer | null = null;
  /** Waiters for idleness, each answered only by a pump that started after it asked
   * (a pump already in flight may have looked at the queue before the caller's change). */
  private idleWaiters: { after: number; resolve: () => void }[] = [];
  private pumpRuns = 0;

  constructor(private readonly options: WorkerOptions) {
    this.source = options.source;
    this.handlers = options.handlers;
    this.concurrency = Math.max(1, options.concurrency ?? navigator.hardwareConcurrency ?? 4);
    const sinks = options.status === undefined ? [] : Array.isArray(options.status) ? options.status : [options.status];
    this.sinks = sinks.filter((sink) => !sink.transactional);
    this.transactionalSinks = sinks.filter((sink) => sink.transactional);
    this.logger = options.logger ?? jsonLogger();
    this.clock = options.clock ?? systemClock;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 300_000;
    this.completionDelayMs = options.completionDelayMs ?? 2;
    this.completionBatchSize = options.completionBatchSize ?? 64;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.maxPrefetch = Math.max(0, options.prefetch ?? 256);
    this.prefetch = Math.min(this.maxPrefetch, this.concurrency);
    checkQueueDefinitions(options.queues ?? {});
    for (const [name, queue] of Object.entries(options.queues ?? {})) {
      if (queue.concurrency !== undefined) this.limits.set(name, queue.concurrency);
      if (queue.rateLimit) this.rates.set(name, new RateWindow(queue.rateLimit.limit, queue.rateLimit.intervalMs));
    }
  }

  /** Jobs of each limited queue this worker holds now (running or claimed ahead). */
  heldInQueue(name: string): number {
    return this.heldByQueue.get(name) ?? 0;
  }

  /** Starts claiming. Jobs a previous owner left running are rescued first. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.unsubscribe = this.source.onAvailable(() => this.wake());
    this.leaseTimer = setInterval(() => void this.maintainLeases(), Math.max(10, this.leaseMs / 3));
    void this.maintainLeases().then(() => this.wake());
    this.logger.log("info", "worker started", { concurrency: this.concurrency, types: Object.keys(this.handlers) });
    return this;
  }

  /** Looks for due jobs now (also used by tests after moving an injected clock). */
  wake(): void {
    if (!this.started || this.stopping) return;
    void this.pump();
  }

  /** Started and not shutting down. */
  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  /** Number of attempts whose handlers are running. */
  get activeCount(): number {
    return this.running.size;
  }

  /** Resolves when nothing is running, nothing waits to be written, and no job is due now. */
  whenIdle(): Promise<void> {
    if (!this.started || this.stopping) return Promise.reject(new Error("whenIdle() needs a started, running worker"));
    const after = this.pumpRuns;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push({ after, resolve }));
    this.wake();
    return idle;
  }

  /**
   * Stops claiming, lets running attempts finish for up to `graceMs`, then aborts the rest and
   * puts them back as enqueued without spending their attempt. Every outcome is written
   * before this resolves; nothing is lost.
   */
  async shutdown(graceMs = 10_000): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.clearTimer("wakeTimer");
    await this.pumping; // a claim in flight lands first (its jobs are put straight back)
    this.releaseBuffered(); // not started: straight back to the queue
    const allDone = Promise.all([...this.running.values()].map((a) => a.done));
    let graceTimer: Timer | undefined;
    await Promise.race([allDone, new Promise<void>((r) => (graceTimer = setTimeout(r, graceMs)))]);
    clearTimeout(graceTimer);
    for (const attempt of [...this.running.values()]) {
      this.running.delete(attempt.job.id);
      this.unhold(attempt.job.id);
      attempt.abort(new Error("worker shutting down"));
      const at = this.clock.now();
      this.pending.push({ kind: "released", job: attempt.job, at, startedAt: attempt.startedAt(at) });
      this.logger.log("warn", "attempt interrupted by shutdown; job put back", logFields(attempt.job));
    }
    this.deadlines.stop();
    this.releaseBuffered();
    await this.flushAll(Math.max(graceMs, 5_000));
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    this.clearTimer("flushTimer");
    this.logger.log("info", "worker stopped");
  }

  // ── the pump: settle finished attempts and claim new ones, one batch at a time ──────────

  private pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = this.pumpLoop().finally(() => {
      this.pumping = null;
      if (this.pumpAgain) {
        this.pumpAgain = false;
        void this.pump();
      }
    });
    return this.pumping;
  }

  private async pumpLoop(): Promise<void> {
    const run = ++this.pumpRuns;
    this.clearTimer("flushTimer");
    let claimedAt = this.clock.now();
    for (;;) {
      const outcomes = this.pending;
      this.pending = [];
      // A job that started and finished since the last write needs no start of its own: its
      // outcome counts the attempt (one row update per transition for fast jobs).
      const finished = new Set(outcomes.map((o) => o.job.id));
      const started = this.startedAhead.filter((id) => !finished.has(id));
      this.startedAhead = [];
      // Jobs finishing as fast as they were claimed: claim more per commit (and less when not).
      this.prefetch = Math.min(this.maxPrefetch, Math.max(Math.min(this.concurrency, this.maxPrefetch), outcomes.length * 2));
      const free = this.stopping ? 0 : this.concurrency + this.prefetch - this.running.size - this.buffer.length;
      if (outcomes.length === 0 && started.length === 0 && free <= 0) return;
      // Jobs that will start as soon as the claim lands have their attempt counted in its
      // commit; the rest are claimed ahead, and a crash before they start spends nothing.
      const startNow = Math.max(0, this.concurrency - this.running.size - this.buffer.length);
      let claimed: Job[];
      claimedAt = this.clock.now();
      try {
        let recorded = false;
        const inTransaction = this.transactionalSinks.length === 0 ? undefined : (applied: readonly Outcome[], claimed: readonly Job[]) => {
          recorded = true;
          this.recordInTransaction(applied, claimed);
        };
        const batch = await this.source.settleAndClaim(outcomes, free, this.leaseMs, { startNow, started, inTransaction, ...this.allowances() });
        claimed = batch.claimed;
        if (this.limits.size > 0) for (const job of claimed) this.hold(job);
        if (this.rates.size > 0) for (const job of claimed) this.rates.get(job.queue)?.record(claimedAt);
        if (inTransaction && !recorded) this.reportTransactional(batch.applied, claimed);
        this.report(batch.applied, claimed);
      } catch (error) {
        // Keep every outcome and start; try again shortly. A full disk or a locked file must not lose work.
        this.pending = outcomes.concat(this.pending);
        this.startedAhead = started.concat(this.startedAhead);
        this.logger.log("error", "could not write job outcomes or claim jobs; retrying", { error: errorMessage(error) });
        this.scheduleWake(1_000);
        return;
      }
      for (const job of claimed.slice(startNow)) this.claimedAhead.add(job.id);
      this.buffer.push(...claimed);
      if (this.stopping) this.releaseBuffered();
      else this.startBuffered();
      if (claimed.length === 0 && this.pending.length === 0) break;
      if (claimed.length === 0 && this.running.size > 0) return; // remaining outcomes flush on their timer
    }
    if (this.stopping) return;
    if (this.running.size === 0 && this.buffer.length === 0) this.resolveIdleWaiters(run);
    let next: number | null;
    try {
      next = await this.source.nextDueAt(claimedAt);
    } catch (error) {
      // A network queue out of reach: look again shortly rather than end the pump (or the process).
      this.logger.log("error", "could not read when the next job is due; retrying", { error: errorMessage(error) });
      this.scheduleWake(1_000);
      return;
    }
    // A rate-limited queue that had no room: look again when its window frees a slot.
    const room = this.nextRateRoom();
    if (room !== null && (next === null || room < next)) next = room;
    const delay = next === null ? this.pollIntervalMs : Math.min(this.pollIntervalMs, Math.max(0, next - this.clock.now()));
    this.scheduleWake(delay);
  }

  /** What each limited queue may still claim: its limit less what this worker holds of it. */
  private allowances(): { queueAllowances?: Record<string, number> } {
    if (this.limits.size === 0 && this.rates.size === 0) return {};
    const now = this.clock.now();
    const allowances: Record<string, number> = {};
    for (const [name, limit] of this.limits) allowances[name] = Math.max(0, limit - (this.heldByQueue.get(name) ?? 0));
    for (const [name, rate] of this.rates) allowances[name] = Math.min(allowances[name] ?? Infinity, rate.room(now));
    return { queueAllowances: allowances };
  }

  /** The earliest time a rate-limited queue with no room now gets room again (null: none waits). */
  private nextRateRoom(): number | null {
    const now = this.clock.now();
    let next: number | null = null;
    for (const rate of this.rates.values()) {
      const at = rate.nextRoomAt(now);
      if (at !== null && (next === null || at < next)) next = at;
    }
    return next;
  }

  private hold(job: Job): void {
    if (!this.limits.has(job.queue)) return;
    this.heldIds.set(job.id, job.queue);
    this.heldByQueue.set(job.queue, (this.heldByQueue.get(job.queue) ?? 0) + 1);
  }

  /** A held job was settled or put back: its queue may claim one more. */
  private unhold(id: string): void {
    if (this.heldIds.size === 0) return;
    const queue = this.heldIds.get(id);
    if (queue === undefined) return;
    this.heldIds.delete(id);
    this.heldByQueue.set(queue, this.heldByQueue.get(queue)! - 1);
  }

  private run(job: Job): void {
    const handler = this.handlers[job.type];
    if (!handler) {
      // It may have arrived before the process that handles it (a rolling upgrade): put it back
      // for a while without spending an attempt, as the seeds do, a bounded number of times.
      const at = this.clock.now();
      const error = `no handler registered for job type "${job.type}"`;
      if (job.requeues < MAX_REQUEUES) {
        this.logger.log("warn", "no handler for this job type here; put back without spending an attempt", { ...logFields(job), requeues: job.requeues + 1 });
        this.finish(job, { kind: "released", job, at, requeue: { runAt: at + UNHANDLED_REQUEUE_DELAY_MS } });
      } else this.finish(job, { kind: "dead", job, error: `${error} (put back ${MAX_REQUEUES} times)`, at, deadLetterType: this.options.deadLetterType });
      return;
    }
    const attempt = new Attempt(job, handler, job.timeoutMs ?? this.defaultTimeoutMs, this.logger);
    this.running.set(job.id, attempt);
    this.deadlines.watch(attempt);
    void attempt.done.then((ended) => {
      // An attempt released by shutdown is no longer ours to report.
      if (this.running.get(job.id) !== attempt) return;
      this.running.delete(job.id);
      this.startBuffered();
      // A success's start is the row's own (written at claim or start); a failure's goes to its history entry.
      this.finish(job, ended.ok ? { kind: "succeeded", job, result: ended.result, at: this.clock.now() } : this.failure(job, ended.error, { permanent: ended.permanent, startedAt: attempt.startedAt(this.clock.now()), stack: ended.stack }));
    });
  }

  /** Starts prefetched jobs while there are free slots. */
  private startBuffered(): void {
    const free = this.concurrency - this.running.size;
    if (free <= 0 || this.stopping || this.buffer.length === 0) return;
    for (const job of this.buffer.splice(0, free)) {
      if (this.claimedAhead.delete(job.id)) this.startedAhead.push(job.id);
      this.run(job);
    }
    // Record those starts soon, even if nothing finishes meanwhile.
    if (this.startedAhead.length > 0 && !this.flushTimer) this.flushTimer = setTimeout(() => void this.pump(), this.completionDelayMs);
  }

  private releaseBuffered(): void {
    for (const job of this.buffer) {
      this.claimedAhead.delete(job.id);
      this.unhold(job.id);
      this.pending.push({ kind: "released", job, at: this.clock.now() });
    }
    this.buffer = [];
  }

  private failure(job: Job, error: string, how: { permanent?: boolean; startedAt?: number; stack?: string | null; interrupted?: boolean } = {}): Outcome {
    const now = this.clock.now();
    const next = how.permanent ? ({ status: "dead" } as const) : afterFailure(job.attempt, job.maxRetry, now, this.options.backoff);
    const history = { ...(how.startedAt !== undefined ? { startedAt: how.startedAt } : {}), stack: how.stack ?? null, ...(how.interrupted ? { interrupted: true } : {}) };
    return next.status === "dead"
      ? { kind: "dead", job, error, at: now, deadLetterType: this.options.deadLetterType, ...history }
      : { kind: "failed", job, error, retryAt: next.retryAt, at: now, ...history };
  }

  private finish(job: Job, outcome: Outcome): void {
    this.unhold(job.id);
    this.pending.push(outcome);
    // Failures are logged; successes are not (at tens of thousands a second, metrics say more).
    if (outcome.kind === "dead" || outcome.kind === "failed") {
      this.logger.log(outcome.kind === "dead" ? "error" : "warn", `job ${outcome.kind}`, { ...logFields(job), error: outcome.error });
    }
    // Write now when the batch is full or nothing else will finish soon; else wait a moment
    // for more outcomes to share the commit.
    if (this.pending.length >= this.completionBatchSize || (this.running.size === 0 && this.buffer.length === 0)) void this.pump();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.pump(), this.completionDelayMs);
  }

  /** Inside the settle's transaction: a throw rolls the settle back, and the worker retries it. */
  private recordInTransaction(applied: readonly Outcome[], claimed: readonly Job[]): void {
    if (applied.length === 0 && claimed.length === 0) return;
    const changes = this.changesOf(applied, claimed);
    for (const sink of this.transactionalSinks) void sink.record(changes);
  }

  /** The source has no transaction to join (memory, PostgreSQL without an event outbox): right after its settle. */
  private reportTransactional(applied: readonly Outcome[], claimed: readonly Job[]): void {
    try {
      this.recordInTransaction(applied, claimed);
    } catch (error) {
      this.logger.log("error", "status sink failed", { error: errorMessage(error) });
    }
  }

  private report(applied: readonly Outcome[], claimed: readonly Job[]): void {
    if (this.sinks.length === 0 || (applied.length === 0 && claimed.length === 0)) return;
    const changes = this.changesOf(applied, claimed);
    for (const sink of this.sinks) {
      Promise.resolve()
        .then(() => sink.record(changes))
        .catch((error) => this.logger.log("error", "status sink failed", { error: errorMessage(error) }));
    }
  }

  private changesOf(applied: readonly Outcome[], claimed: readonly Job[]): StatusChange[] {
    const at = this.clock.now();
    const changes: StatusChange[] = applied.map((o) => ({
      job: o.job,
      status: o.kind === "released" ? "enqueued" : o.kind,
      attempts: o.kind === "released" ? o.job.attempt - 1 : o.job.attempt,
      error: "error" in o ? o.error : null,
      result: o.kind === "succeeded" ? o.result : null,
      at: o.at,
    }));
    for (const job of claimed) changes.push({ job, status: "running", attempts: job.attempt, error: null, result: null, at });
    return changes;
  }

  /** Renews the leases of our attempts, and rescues jobs whose lease lapsed elsewhere. */
  private async maintainLeases(): Promise<void> {
    try {
      const buffered = new Set(this.buffer.map((job) => job.id));
      const ours = [...this.running.keys(), ...buffered, ...this.pending.map((o) => o.job.id)];
      await this.source.extendLeases(ours, this.leaseMs);
      if (this.stopping) return;
      const expired = (await this.source.takeExpired(this.leaseMs)).filter((job) => !this.running.has(job.id) && !buffered.has(job.id));
      for (const job of expired) {
        this.logger.log("warn", "lease expired; attempt counted as failed", logFields(job));
        this.finish(job, this.failure(job, "lease expired: the worker running this attempt died or stalled", { interrupted: true }));
      }
    } catch (error) {
      this.logger.log("error", "lease maintenance failed", { error: errorMessage(error) });
    }
  }

  /** Writes every pending outcome; if the source stays unwritable past `limitMs`, gives up
   * loudly — the jobs are still `running` in the queue and are rescued at the next start. */
  private async flushAll(limitMs: number): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (this.pending.length > 0 || this.startedAhead.length > 0 || this.pumping) {
      await this.pump();
      if (this.pending.length === 0 && this.startedAhead.length === 0) continue;
      if (Date.now() > deadline) {
        this.logger.log("error", "could not record outcomes before stopping; their jobs will be rescued at the next start", { jobs: this.pending.length });
        return;
      }
      await Bun.sleep(50);
    }
  }

  private resolveIdleWaiters(run: number): void {
    const ready = this.idleWaiters.filter((w) => w.after < run);
    this.idleWaiters = this.idleWaiters.filter((w) => w.after >= run);
    for (const w of ready) w.resolve();
    if (this.idleWaiters.length > 0) this.wake(); // someone asked after this pump began: look again
  }

  private scheduleWake(delayMs: number): void {
    this.clearTimer("wakeTimer");
    if (this.stopping) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wake();
    }, delayMs);
  }

  private clearTimer(name: "wakeTimer" | "flushTimer"): void {
    const timer = this[name];
    if (timer) clearTimeout(timer);
    this[name] = null;
  }
}

function logFields(job: Job): Record<string, unknown> {
  return { job_id: job.id, type: job.type, attempt: job.attempt, trace_id: job.traceId };
}
