// The durable cron scheduler. Each tick enqueues its job(s) AND advances `next_fire_at` in ONE
// transaction, with a unique key per (schedule, fire time) and a compare-and-set on the old
// `next_fire_at`: a crash between the two can neither lose the tick nor fire it twice, and two
// schedulers on one file (if it ever came to that) cannot both fire it.
//
// The ticker sleeps until the earliest due time (no polling), wakes when schedules change,
// and re-checks at least once a minute in case the wall clock was moved.
import { systemClock, type Clock } from "../clock.ts";
import type { Db } from "../db/open.ts";
import { CodedError } from "../errors.ts";
import type { SyncEnqueue } from "../jobs/sync-queue.ts";
import { errorMessage, jsonLogger, type Logger } from "../log.ts";
import { compileSchedule, InvalidScheduleError } from "./expression.ts";
import { CATCH_UP_POLICIES, rowToSchedule, type CatchUp, type ScheduleRow, type ScheduleState } from "./store.ts";

export interface ScheduleDefinition {
  name: string;
  /** croner syntax: "0 21 * * *", "@daily", six fields for seconds. */
  schedule: string;
  /** The job to enqueue at each tick. */
  type: string;
  payload?: unknown;
  /** IANA timezone; default the server's local time. */
  timezone?: string | null;
  /** What to do with ticks missed while the process was down. Default "skip". */
  catchUp?: CatchUp;
}

export interface SchedulerOptions {
  db: Db;
  queue: SyncEnqueue;
  clock?: Clock;
  logger?: Logger;
  /** A due tick older than this counts as missed (for catch-up). Default 60 s. */
  missedAfterMs?: number;
  /** The most missed ticks the "all" policy fires at once. Default 100. */
  maxCatchUp?: number;
}

export class ScheduleNotFoundError extends CodedError {
  override name = "ScheduleNotFoundError";
  constructor(message: string) {
    super(404, "NOT_FOUND", message);
  }
}

export class ScheduleExistsError extends CodedError {
  override name = "ScheduleExistsError";
  constructor(message: string) {
    super(409, "CONFLICT", message);
  }
}

const MAX_SLEEP_MS = 60_000;

export class Scheduler {
  private readonly db: Db;
  private readonly queue: SyncEnqueue;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly missedAfterMs: number;
  private readonly maxCatchUp: number;
  private timer: Timer | null = null;
  private running = false;

  constructor(options: SchedulerOptions) {
    this.db = options.db;
    this.queue = options.queue;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? jsonLogger();
    this.missedAfterMs = options.missedAfterMs ?? 60_000;
    this.maxCatchUp = options.maxCatchUp ?? 100;
  }

  /**
   * Schedules declared in code, applied at start-up: new ones are created; existing ones keep
   * their durable next_fire_at unless their expression or timezone changed (then it is
   * recomputed from now). Pausing done by an operator is kept.
   */
  declare(definitions: readonly ScheduleDefinition[]): void {
    // A restart mostly declares what the file already holds: then nothing is written, so no
    // transaction commits (an fsync at synchronous=FULL, 30 ms of a start here).
    const changed = definitions.filter((definition) => !this.storedAsDeclared(definition));
    if (changed.length > 0) {
      this.db.transaction(() => {
        for (const definition of changed) this.upsert(definition, true);
      });
    }
    this.arm();
  }

  /**
   * Whether a declaration is stored exactly so, with a next fire time: upserting it would
   * change nothing but updated_at. It was checked when it was stored, so it is not compiled
   * again (croner's first compile is 15-25 ms of a start); anything else goes through upsert's checks.
   */
  private storedAsDeclared(d: ScheduleDefinition): boolean {
    const s = typeof d.name === "string" ? this.find(d.name) : null;
    return s !== null && s.declared && s.nextFireAt !== null && s.schedule === d.schedule && s.timezone === (d.timezone ?? null) && s.type === d.type && s.catchUp === (d.catchUp ?? "skip") && JSON.stringify(s.payload) === JSON.stringify(d.payload ?? null);
  }

  /** Creates a schedule (over REST); the name must be new. */
  create(definition: ScheduleDefinition): ScheduleState {
    const state = this.db.transaction(() => {
      if (this.find(definition.name)) throw new ScheduleExistsError(`a schedule named "${definition.name}" already exists`);
      return this.upsert(definition, false);
    });
    this.arm();
    return state;
  }

  /** Changes a schedule; a new expression or timezone recomputes its next fire time. */
  update(name: string, changes: Partial<Omit<ScheduleDefinition, "name">>): ScheduleState {
    const state = this.db.transaction(() => {
      const current = this.mustFind(name);
      return this.upsert({ name, schedule: current.schedule, type: current.type, payload: current.payload, timezone: current.timezone, catchUp: current.catchUp, ...changes }, current.declared);
    });
    this.arm();
    return state;
  }

  pause(name: string): ScheduleState {
    return this.setPaused(name, true);
  }

  /** Resumes from now: ticks that fell while paused are not caught up. */
  resume(name: string): ScheduleState {
    return this.setPaused(name, false);
  }

  remove(name: string): void {
    this.mustFind(name);
    this.db.transaction(() => this.db.sqlite.query("DELETE FROM schedules WHERE name = ?").run(name));
    this.arm();
  }

  /** Enqueues the schedule's job now, outside the schedule; next_fire_at is untouched. */
  runNow(name: string): string {
    const s = this.mustFind(name);
    const now = this.clock.now();
    return this.queue.enqueue({ type: s.type, payload: s.payload, headers: { "x-cron-schedule": name, "x-cron-fire-at": new Date(now).toISOString(), "x-cron-manual": "true" } });
  }

  list(): ScheduleState[] {
    return (this.db.sqlite.query("SELECT * FROM schedules ORDER BY name").all() as ScheduleRow[]).map(rowToSchedule);
  }

  find(name: string): ScheduleState | null {
    const row = this.db.sqlite.query("SELECT * FROM schedules WHERE name = ?").get(name) as ScheduleRow | null;
    return row ? rowToSchedule(row) : null;
  }

  start(): this {
    this.running = true;
    this.arm();
    return this;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Fires every due schedule now (the timer calls this; tests call it after moving the clock). */
  tick(): number {
    const now = this.clock.now();
    const due = this.db.sqlite.query("SELECT * FROM schedules WHERE paused = 0 AND next_fire_at <= ? ORDER BY next_fire_at").all(now) as ScheduleRow[];
    let fired = 0;
    for (const row of due) {
      try {
        fired += this.fire(rowToSchedule(row), now);
      } catch (error) {
        // One broken schedule must not stop the others; it is retried at the next tick.
        this.logger.log("error", "schedule tick failed", { schedule: row.name, error: errorMessage(error) });
      }
    }
    return fired;
  }

  /** One due schedule: its jobs and its advance, in one transaction. Returns jobs enqueued. */
  private fire(s: ScheduleState, now: number): number {
    const compiled = compileSchedule(s.schedule, s.timezone);
    const due = s.nextFireAt!;
    const fireTimes = this.fireTimes(s.catchUp, due, now, compiled.nextAfter);
    const next = compiled.nextAfter(now);
    this.db.transaction(() => {
      for (const at of fireTimes) {
        this.queue.enqueue({
          type: s.type,
          payload: s.payload,
          uniqueKey: `cron:${s.name}:${at}`,
          headers: { "x-cron-schedule": s.name, "x-cron-fire-at": new Date(at).toISOString() },
        });
      }
      const advanced = this.db.sqlite
        .query("UPDATE schedules SET next_fire_at = ?, last_fired_at = coalesce(?, last_fired_at), updated_at = ? WHERE name = ? AND next_fire_at = ?")
        .run(next, fireTimes.at(-1) ?? null, now, s.name, due);
      if (advanced.changes === 0) throw new Error(`schedule ${s.name} was advanced by someone else; this tick is theirs`);
    });
    if (fireTimes.length === 0 || due < now - this.missedAfterMs) {
      this.logger.log("info", "schedule caught up after missed ticks", { schedule: s.name, policy: s.catchUp, missed_since: new Date(due).toISOString(), fired: fireTimes.length });
    }
    return fireTimes.length;
  }

  /** Which of the ticks from `due` up to `now` to fire, by the schedule's catch-up policy. */
  private fireTimes(policy: CatchUp, due: number, now: number, nextAfter: (t: number) => number | null): number[] {
    const onTime = due >= now - this.missedAfterMs;
    if (policy === "none") return onTime ? [due] : [];
    if (policy === "skip") return [due];
    const times: number[] = [];
    for (let t: number | null = due; t !== null && t <= now; t = nextAfter(t)) {
      if (times.length === this.maxCatchUp) {
        this.logger.log("warn", "more missed ticks than the catch-up cap; the rest are not fired", { cap: this.maxCatchUp });
        break;
      }
      times.push(t);
    }
    return times;
  }

  /** A definition's checked parts; throws InvalidScheduleError for a bad one. */
  private checked(d: ScheduleDefinition) {
    const catchUp = d.catchUp ?? "skip";
    if (!CATCH_UP_POLICIES.includes(catchUp)) throw new InvalidScheduleError("schedule", `catch_up must be one of ${CATCH_UP_POLICIES.join(", ")}`);
    if (typeof d.name !== "string" || !/^[\w.:-]{1,100}$/.test(d.name)) throw new InvalidScheduleError("schedule", "name must be 1 to 100 letters, digits, or . : _ -");
    if (typeof d.type !== "string" || d.type === "") throw new InvalidScheduleError("schedule", "type must be a job type");
    const timezone = d.timezone ?? null;
    return { catchUp, timezone, compiled: compileSchedule(d.schedule, timezone) };
  }

  private upsert(d: ScheduleDefinition, declared: boolean): ScheduleState {
    const { catchUp, timezone, compiled } = this.checked(d);
    const now = this.clock.now();
    const existing = this.find(d.name);
    const timingChanged = !existing || existing.schedule !== d.schedule || existing.timezone !== timezone;
    const next = timingChanged || existing.nextFireAt === null ? compiled.nextAfter(now) : existing.nextFireAt;
    this.db.sqlite
      .query(
        `INSERT INTO schedules (name, schedule, timezone, type, payload, catch_up, declared, next_fire_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
         ON CONFLICT (name) DO UPDATE SET schedule = ?2, timezone = ?3, type = ?4, payload = ?5, catch_up = ?6, declared = ?7,
           next_fire_at = CASE WHEN paused = 1 THEN next_fire_at ELSE ?8 END, updated_at = ?9`,
      )
      .run(d.name, d.schedule, timezone, d.type, JSON.stringify(d.payload ?? null), catchUp, declared ? 1 : 0, next, now);
    return this.mustFind(d.name);
  }

  private setPaused(name: string, paused: boolean): ScheduleState {
    const s = this.mustFind(name);
    const next = paused ? s.nextFireAt : compileSchedule(s.schedule, s.timezone).nextAfter(this.clock.now());
    this.db.transaction(() =>
      this.db.sqlite.query("UPDATE schedules SET paused = ?, next_fire_at = ?, updated_at = ? WHERE name = ?").run(paused ? 1 : 0, next, this.clock.now(), name),
    );
    this.arm();
    return this.mustFind(name);
  }

  private mustFind(name: string): ScheduleState {
    const s = this.find(name);
    if (!s) throw new ScheduleNotFoundError(`no schedule named "${name}"`);
    return s;
  }

  /** Sleeps until the earliest due schedule (at most a minute), then ticks and sleeps again. */
  private arm(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    const row = this.db.sqlite.query("SELECT min(next_fire_at) AS at FROM schedules WHERE paused = 0").get() as { at: number | null };
    const delay = row.at === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, row.at - this.clock.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.running) return;
      this.tick();
      this.arm();
    }, delay);
  }
}
