// The runner of scheduled transitions (declared on models, see src/models/scheduled.ts). It
// applies every due row, oldest first, a batch per transaction, through the model store — so
// hooks run, `{model}.updated` events are published after commit and webhooks fire as for any
// other write — and repeats until nothing is due. That is also how a start after downtime
// applies everything that fell due while the box was off. Then it sleeps until the next row
// falls due (at most `maxSleepMs`, in case the wall clock moved), and a write that makes a row
// due sooner wakes it.
//
// It never scans a table: each query names its transition's partial index (INDEXED BY).
import type { Clock } from "../clock.ts";
import { errorMessage, type Logger } from "../log.ts";
import type { Model } from "./model.ts";
import type { ScheduledTransition } from "./scheduled.ts";
import type { Services } from "./services.ts";

export interface ScheduledFieldsOptions {
  services: Services;
  /** The app's models; those declaring `scheduled` transitions are run. */
  models: readonly Model[];
  /** Default: the services' clock (the one the model store stamps updated_at with). */
  clock?: Clock;
  logger?: Logger;
  /** Rows per transaction. Default 500: one commit per 500 rows, short enough not to hold requests up. */
  batchSize?: number;
  /** The longest sleep; also how long a row a hook refused waits to be retried. Default 60 s. */
  maxSleepMs?: number;
}

interface Entry {
  model: Model;
  transition: ScheduledTransition;
}

export class ScheduledFields {
  private readonly services: Services;
  private readonly entries: Entry[];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly maxSleepMs: number;
  private timer: Timer | null = null;
  private wakeAt = Infinity;
  private started = false;
  private stopping = false;
  private running = false;
  /** Set when a write made a row due while a run was under way: the run makes another pass. */
  private again = false;
  private inFlight: Promise<number> = Promise.resolve(0);
  private unregister: (() => void)[] = [];

  constructor(options: ScheduledFieldsOptions) {
    this.services = options.services;
    this.entries = options.models.flatMap((model) => model.scheduled.map((transition) => ({ model, transition })));
    this.clock = options.clock ?? options.services.clock;
    this.logger = options.logger ?? options.services.logger;
    this.batchSize = options.batchSize ?? 500;
    this.maxSleepMs = options.maxSleepMs ?? 60_000;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new Error("scheduled fields: batchSize must be a positive integer");
  }

  /** Applies what fell due while stopped, then follows the schedule until stop(). */
  start(): this {
    // An app without transitions gets a runner too; it must not wake every minute for nothing.
    if (this.started || this.entries.length === 0) return this;
    this.assertIndexes();
    this.started = true;
    this.stopping = false;
    for (const model of new Set(this.entries.map((e) => e.model))) {
      this.unregister.push(this.services.pipeline.register((write) => this.onWrite(model, write.record), { model: model.name, position: "after", operations: ["create", "update"] }));
    }
    void this.runDue();
    return this;
  }

  /** Stops sleeping and waking; resolves once a batch in flight has committed. */
  async stop(): Promise<void> {
    this.started = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const unregister of this.unregister.splice(0)) unregister();
    await this.inFlight;
  }

  /**
   * Applies every transition due now, batch after batch, until none is left; resolves with
   * how many rows it changed. The timer calls it; tests call it after moving the clock. A call
   * while a run is under way joins that run (which makes one more pass for it).
   */
  runDue(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.inFlight;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = true;
    this.inFlight = this.applyAll();
    return this.inFlight;
  }

  /** When the next row falls due (epoch ms; it may be past), or null when no row waits. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const { transition } of this.entries) {
      const { at } = this.services.db.sqlite.query(transition.sql.nextDue).get() as { at: number | null };
      if (at !== null && (next === null || at + transition.after < next)) next = at + transition.after;
    }
    return next;
  }

  /** When the runner wakes next on its own; null while it runs or when stopped. */
  get sleepingUntil(): number | null {
    return this.timer ? this.wakeAt : null;
  }

  private async applyAll(): Promise<number> {
    const skipped = new Set<string>();
    let applied = 0;
    let failed = false;
    try {
      for (;;) {
        this.again = false;
        let pass = 0;
        for (const entry of this.entries) pass += await this.applyTransition(entry, skipped);
        applied += pass;
        if ((pass === 0 && !this.again) || this.stopping) break;
      }
    } catch (error) {
      failed = true;
      this.logger.log("error", "scheduled transitions failed", { error: errorMessage(error) });
    } finally {
      // Synchronous with the last check above: a write from here on arms a timer itself.
      this.running = false;
    }
    if (applied > 0) this.logger.log("debug", "scheduled transitions applied", { rows: applied });
    // Rows still due after a run are ones a hook refused (or a stale read): retry them after
    // the longest sleep instead of spinning on them.
    this.arm(failed || skipped.size > 0 || applied === 0);
    return applied;
  }

  /** One transition's due rows, a batch per transaction, walking a (time, id) cursor past rows it skipped. */
  private async applyTransition({ model, transition }: Entry, skipped: Set<string>): Promise<number> {
    const store = this.services.model(model.name);
    const due = this.services.db.sqlite.query(transition.sql.due);
    let cursor: [number, string] = [-Infinity, ""];
    let applied = 0;
    while (!this.stopping) {
      const rows = due.all(this.clock.now() - transition.after, cursor[0], cursor[1], this.batchSize) as { id: string; at: number }[];
      if (rows.length === 0) break;
      cursor = [rows.at(-1)!.at, rows.at(-1)!.id];
      const context = { auth: null, services: this.services };
      applied += this.services.db.transaction(() => {
        let changed = 0;
        for (const { id } of rows) {
          if (skipped.has(id)) continue;
          try {
            if (store.updateIf(id, transition.where, transition.set, context)) changed++;
            // else the row left the from-state since the read: it is not ours to change.
            else skipped.add(id);
          } catch (error) {
            // Its savepoint is rolled back; the rest of the batch still commits.
            skipped.add(id);
            this.logger.log("error", "a scheduled transition was refused", { model: model.name, transition: transition.name, id, error: errorMessage(error) });
          }
        }
        return changed;
      });
      if (rows.length < this.batchSize) break;
      // Between batches the event loop answers requests, so a long catch-up does not stall the till.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return applied;
  }

  private arm(backOff: boolean): void {
    if (!this.started) return;
    const now = this.clock.now();
    let next: number | null;
    try {
      next = this.nextDueAt();
    } catch (error) {
      // A failed read must not end the runner: try again after the longest sleep.
      this.logger.log("error", "scheduled transitions: reading the next due time failed", { error: errorMessage(error) });
      next = null;
    }
    const delay = next === null ? this.maxSleepMs : next > now ? Math.min(this.maxSleepMs, next - now) : backOff ? this.maxSleepMs : 0;
    this.sleep(now + delay);
  }

  private sleep(until: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.wakeAt = until;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runDue();
    }, Math.max(0, until - this.clock.now()));
  }

  /** After a write to a model with transitions: wake sooner if the record is now due sooner. */
  private onWrite(model: Model, record: Record<string, unknown>): void {
    let due = Infinity;
    for (const entry of this.entries) {
      if (entry.model !== model) continue;
      const transition = entry.transition;
      const at = record[transition.field];
      if (typeof at !== "string" || !Object.entries(transition.where).every(([name, value]) => record[name] === value)) continue;
      due = Math.min(due, Date.parse(at) + transition.after);
    }
    if (due === Infinity) return;
    // After commit: a run started earlier would not see the row, and a rolled-back write wakes nobody.
    this.services.db.afterCommit(() => {
      if (!this.started) return;
      if (this.running) this.again = true;
      else if (due < this.wakeAt || !this.timer) this.sleep(Math.min(due, this.clock.now() + this.maxSleepMs));
    });
  }

  /** A transition added to a released model without a new migration would have no index. */
  private assertIndexes(): void {
    for (const { model, transition } of this.entries) {
      const found = this.services.db.sqlite.query("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(transition.index);
      if (!found) {
        throw new Error(`model ${model.name}: scheduled "${transition.name}" has no index ${transition.index} in this database; a transition added to a released model needs \`since\` naming a new migration`);
      }
    }
  }
}
