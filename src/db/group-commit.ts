// Group commit: many callers' atomic units share one transaction and one commit.
//
// SQLite pays per commit (an fsync under synchronous=FULL), not per row. `write(fn)` runs fn
// AT ONCE, synchronously, inside a SAVEPOINT of a shared batch transaction, and returns a
// promise that settles only after the COMMIT that holds fn's work — so nobody is told
// "done" before it is durable. A fn that throws rolls back to its own savepoint; the others
// in the batch still commit. The batch commits when the event loop next turns (everything
// that arrived together commits together, with no artificial wait), after `windowMs` if
// that is set, or as soon as `maxBatch` units have joined.
import type { Database } from "bun:sqlite";
import { runCommitted, type CommitHooks } from "./commit-hooks.ts";

export interface GroupCommitOptions {
  /** Wait this long for more writers before committing; 0 (default) = the next event-loop turn. */
  windowMs?: number;
  /** Commit as soon as this many units have joined. Default 64. */
  maxBatch?: number;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  value: unknown;
}

interface Batch {
  waiters: Waiter[];
  flushed: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void };
  timer: Timer | null;
}

export class GroupCommit {
  private batch: Batch | null = null;
  private writeDepth = 0;
  private savepoints = 0;
  private readonly windowMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly sqlite: Database,
    private readonly hooks: CommitHooks,
    options: GroupCommitOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 0;
    this.maxBatch = Math.max(1, options.maxBatch ?? 64);
  }

  /** True while a write's fn runs: a nested transaction there is part of that unit. */
  get insideWrite(): boolean {
    return this.writeDepth > 0;
  }

  get open(): boolean {
    return this.batch !== null;
  }

  write<T>(fn: () => T): Promise<T> {
    if (this.sqlite.inTransaction && !this.batch) {
      // Called inside someone's own synchronous transaction: be part of it (it commits when
      // that transaction returns, before this promise's callbacks run).
      return Promise.resolve(this.runUnit(() => this.sqlite.transaction(fn)()));
    }
    if (this.insideWrite) {
      // Nested in another unit: part of that unit, durable with its batch.
      const value = this.runUnit(() => this.sqlite.transaction(fn)());
      return this.whenFlushed().then(() => value);
    }
    const batch = this.batch ?? this.begin();
    const name = `unit_${++this.savepoints}`;
    this.sqlite.run(`SAVEPOINT ${name}`);
    let value: T;
    try {
      value = this.runUnit(fn);
      this.sqlite.run(`RELEASE ${name}`);
    } catch (error) {
      if (this.sqlite.inTransaction) {
        this.sqlite.run(`ROLLBACK TO ${name}`);
        this.sqlite.run(`RELEASE ${name}`);
      } else {
        // SQLite rolled the whole batch back itself (a full disk, an I/O error): the other
        // units in it are gone too. Tell each of their writers the real cause now — not "no
        // such savepoint" here and "no transaction is active" at the commit.
        this.abandon(batch, error);
      }
      return Promise.reject(error);
    }
    const done = new Promise<T>((resolve, reject) => batch.waiters.push({ resolve: resolve as (v: unknown) => void, reject, value }));
    if (batch.waiters.length >= this.maxBatch) this.flush();
    return done;
  }

  /** Resolves once everything written so far is committed (at once when no batch is open);
   * rejects if that commit failed. */
  whenFlushed(): Promise<void> {
    return this.batch?.flushed.promise ?? Promise.resolve();
  }

  /** Commits the open batch now; its writers are answered after the commit. */
  flush(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    if (batch.timer) clearTimeout(batch.timer);
    try {
      this.sqlite.run("COMMIT");
    } catch (error) {
      try {
        this.sqlite.run("ROLLBACK");
      } catch {}
      this.hooks.discard();
      for (const w of batch.waiters) w.reject(error);
      batch.flushed.reject(error);
      return;
    }
    runCommitted(this.hooks.close());
    for (const w of batch.waiters) w.resolve(w.value);
    batch.flushed.resolve();
  }

  private abandon(batch: Batch, error: unknown): void {
    if (this.batch === batch) this.batch = null;
    if (batch.timer) clearTimeout(batch.timer);
    this.hooks.discard();
    for (const w of batch.waiters) w.reject(error);
    batch.flushed.reject(error);
  }

  private begin(): Batch {
    this.sqlite.run("BEGIN IMMEDIATE");
    this.hooks.open(); // the batch's frame: its units' after-commit callbacks gather here
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {}); // nobody may be waiting; those who are still see the failure
    const batch: Batch = { waiters: [], flushed: { promise, resolve, reject }, timer: null };
    this.batch = batch;
    const flush = () => {
      if (this.batch === batch) this.flush();
    };
    if (this.windowMs > 0) batch.timer = setTimeout(flush, this.windowMs);
    else setImmediate(flush);
    return batch;
  }

  private runUnit<T>(fn: () => T): T {
    this.writeDepth++;
    this.hooks.open();
    try {
      const value = fn();
      if (typeof (value as { then?: unknown } | null)?.then === "function") throw new TypeError("db.write(fn): fn must be synchronous (no async/await inside a transaction)");
      runCommitted(this.hooks.close()); // joins the enclosing frame; runs nothing unless outermost
      return value;
    } catch (error) {
      this.hooks.discard();
      throw error;
    } finally {
      this.writeDepth--;
    }
  }
}
