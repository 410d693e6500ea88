// Moves jobs from a till's SQLite outbox to the shared PostgreSQL queue (see
// forwarding-queue.ts). One pass: read up to `batch` committed waiting rows, store them in
// PostgreSQL with their ids in one statement, then delete them from the outbox — each only if
// nothing changed it meanwhile. A row that changed was cancelled while in flight: its copy in
// PostgreSQL is cancelled too, so it never runs.
//
// At least once, never lost: a crash after the PostgreSQL commit and before the delete leaves
// the rows in the outbox, and the next pass's insert skips ids that are there already. While
// PostgreSQL cannot be reached the rows simply wait (the till keeps taking orders), and passes
// are retried with a backoff that doubles up to `maxRetryMs`.
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { PostgresQueue } from "./postgres.ts";
import type { SqliteQueue } from "./sqlite.ts";

export interface ForwarderOptions {
  outbox: SqliteQueue;
  remote: PostgresQueue;
  logger?: Logger;
  /** Rows per pass (one PostgreSQL statement). Default 500. */
  batch?: number;
  /** Backoff after a failed pass: starts at `minRetryMs` (default 250), doubles up to `maxRetryMs` (default 30 s). */
  minRetryMs?: number;
  maxRetryMs?: number;
  /** A pass this often even without a wake-up (rows left by an earlier run). Default 5 s. */
  pollMs?: number;
}

export class Forwarder {
  private readonly outbox: SqliteQueue;
  private readonly remote: PostgresQueue;
  private readonly logger: Logger;
  private readonly batch: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly pollMs: number;
  private running: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private woken = false;
  private offAvailable: (() => void) | null = null;
  private migrated = false;
  /** Consecutive failed passes (0 when the last one worked): readiness and logs read it. */
  failures = 0;

  constructor(options: ForwarderOptions) {
    this.outbox = options.outbox;
    this.remote = options.remote;
    this.logger = options.logger ?? silentLogger;
    this.batch = options.batch ?? 500;
    this.minRetryMs = options.minRetryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.pollMs = options.pollMs ?? 5_000;
  }

  start(): this {
    if (this.running) return this;
    this.stopped = false;
    this.offAvailable = this.outbox.onAvailable(() => this.poke());
    this.running = this.loop();
    return this;
  }

  /** Stops after the pass in flight; rows not yet forwarded stay in the outbox for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.offAvailable?.();
    this.poke();
    await this.running;
    this.running = null;
  }

  /** One pass; returns how many rows it moved. */
  async forwardOnce(): Promise<number> {
    if (!this.migrated) {
      await this.remote.migrate();
      await this.releaseStranded();
      this.migrated = true;
    }
    const rows = await this.outbox.outbox(this.batch);
    if (rows.length === 0) return 0;
    await this.remote.adopt(rows);
    const changed = this.outbox.removeForwarded(rows);
    for (const row of changed) {
      // Only a cancel changes an outbox row (nothing claims from it); the copy must not run.
      if (this.outbox.getStatus(row.id)?.status === "cancelled") await this.remote.cancel(row.id);
    }
    return rows.length;
  }

  /**
   * Jobs left `running` in the file by a run without forwarding (a till switched to PostgreSQL
   * after a crash): no local worker will ever settle them, so they go back to waiting — without
   * spending the interrupted attempt — and are forwarded like the rest.
   */
  private async releaseStranded(): Promise<void> {
    const stranded = this.outbox.takeExpired(0);
    if (stranded.length === 0) return;
    const at = Date.now();
    await this.outbox.settleAndClaim(stranded.map((job) => ({ kind: "released", job, at })), 0, 0);
    this.logger.log("warn", "jobs left running in the file will be forwarded", { jobs: stranded.length });
  }

  private async loop(): Promise<void> {
    let delay = 0;
    while (!this.stopped) {
      try {
        const moved = await this.forwardOnce();
        if (this.failures > 0) this.logger.log("info", "forwarding to PostgreSQL again", { after_failures: this.failures });
        this.failures = 0;
        delay = 0;
        if (moved === this.batch) continue; // more are waiting
        await this.sleep(this.pollMs);
      } catch (error) {
        if (this.failures++ === 0) this.logger.log("warn", "cannot forward jobs to PostgreSQL; they wait in the outbox", { error: (error as Error).message });
        delay = Math.min(this.maxRetryMs, delay === 0 ? this.minRetryMs : delay * 2);
        await this.sleep(delay, true);
      }
    }
  }

  private poke(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Sleeps up to `ms`; a new outbox row ends it early, unless we are backing off from a failure. */
  private sleep(ms: number, backingOff = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!backingOff && this.woken) {
      this.woken = false; // a row arrived during the pass: go again now
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => (this.stopped || !backingOff ? done() : undefined);
    });
  }
}
