// The durable scheduler, on an injected clock: nothing here waits for real time.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/clock.ts";
import { compileSchedule, InvalidScheduleError } from "../../src/cron/expression.ts";
import { Scheduler, type ScheduleDefinition } from "../../src/cron/scheduler.ts";
import { cronMigrations } from "../../src/cron/store.ts";
import { openDatabase, type Db } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { silentLogger } from "../../src/log.ts";
import { tempDir } from "../support/temp.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let tmp: ReturnType<typeof tempDir>;
let db: Db;
let clock: ManualClock;
beforeEach(() => {
  tmp = tempDir();
  db = openDatabase(tmp.file("cron.db"), { migrations: [...jobsMigrations, ...cronMigrations] });
  clock = new ManualClock(Date.parse("2026-03-01T10:30:00Z"));
});
afterEach(() => {
  db.close();
  tmp.remove();
});

const scheduler = (queue = new SqliteQueue(db, { clock })) => new Scheduler({ db, queue, clock, logger: silentLogger });
const jobs = () => db.sqlite.query("SELECT type, headers FROM jobs ORDER BY id").all() as { type: string; headers: string }[];
const fireTimes = () => jobs().map((j) => JSON.parse(j.headers)["x-cron-fire-at"] as string);
const hourly = (overrides: Partial<ScheduleDefinition> = {}): ScheduleDefinition => ({ name: "sync", schedule: "0 * * * *", type: "sync_inventory", timezone: "UTC", ...overrides });

describe("next fire times", () => {
  test("follow the named timezone across the spring and autumn daylight-saving changes", () => {
    const nineInBerlin = compileSchedule("0 9 * * *", "Europe/Berlin");
    const from = Date.parse("2026-03-27T12:00:00Z");
    const first = nineInBerlin.nextAfter(from)!;
    const second = nineInBerlin.nextAfter(first)!;
    const third = nineInBerlin.nextAfter(second)!;
    expect([first, second, third].map((t) => new Date(t).toISOString())).toEqual([
      "2026-03-28T08:00:00.000Z", // 09:00 CET (UTC+1)
      "2026-03-29T07:00:00.000Z", // 09:00 CEST (UTC+2): clocks went forward that night
      "2026-03-30T07:00:00.000Z",
    ]);
    const autumn = nineInBerlin.nextAfter(Date.parse("2026-10-24T12:00:00Z"))!;
    expect(new Date(autumn).toISOString()).toBe("2026-10-25T08:00:00.000Z"); // back to CET
  });

  test("a local time that does not exist fires after the gap; one that happens twice fires once", () => {
    const halfPastTwo = compileSchedule("30 2 * * *", "Europe/Berlin");
    expect(new Date(halfPastTwo.nextAfter(Date.parse("2026-03-28T12:00:00Z"))!).toISOString()).toBe("2026-03-29T01:00:00.000Z"); // 03:00 CEST
    const october = halfPastTwo.nextAfter(Date.parse("2026-10-24T12:00:00Z"))!;
    expect(new Date(october).toISOString()).toBe("2026-10-25T00:30:00.000Z");
    expect(new Date(halfPastTwo.nextAfter(october)!).toISOString()).toBe("2026-10-26T01:30:00.000Z");
  });

  test("invalid expressions and timezones are refused with a clear error", () => {
    expect(() => compileSchedule("61 * * * *", null)).toThrow(InvalidScheduleError);
    expect(() => compileSchedule("* * *", null)).toThrow(/exactly five, six, or seven/);
    expect(() => compileSchedule("@daily", "Mars/Olympus")).toThrow(/invalid timezone "Mars\/Olympus"/);
    expect(() => scheduler().declare([hourly({ schedule: "every hour" })])).toThrow(InvalidScheduleError);
    expect(() => scheduler().declare([hourly({ catchUp: "sometimes" as never })])).toThrow(/catch_up must be one of/);
  });
});

describe("declarations at start-up", () => {
  test("declaring what is already stored writes nothing (no commit); a changed or new declaration is written, and a bad one refused", () => {
    const s = scheduler();
    s.declare([hourly({ payload: { store: 7 } })]);
    const stored = s.find("sync")!;
    const commits = () => (db.sqlite.query("SELECT total_changes() AS n").get() as { n: number }).n;
    const before = commits();
    clock.set(Date.parse("2026-03-01T12:30:00Z"));
    scheduler().declare([hourly({ payload: { store: 7 } })]);
    expect(commits()).toBe(before);
    expect(scheduler().find("sync")).toEqual(stored);
    scheduler().declare([hourly({ payload: { store: 8 } }), hourly({ name: "report", type: "daily_report", schedule: "0 21 * * *" })]);
    expect(scheduler().find("sync")).toMatchObject({ payload: { store: 8 }, nextFireAt: stored.nextFireAt, updatedAt: Date.parse("2026-03-01T12:30:00Z") });
    expect(scheduler().find("report")).toMatchObject({ declared: true, nextFireAt: Date.parse("2026-03-01T21:00:00Z") });
    expect(() => scheduler().declare([hourly({ payload: { store: 8 } }), hourly({ name: "bad", schedule: "every hour" })])).toThrow(InvalidScheduleError);
    expect(scheduler().find("bad")).toBeNull();
  });
});

describe("ticks", () => {
  test("a tick enqueues the job and advances next_fire_at; nothing fires before it is due", () => {
    const s = scheduler();
    s.declare([hourly({ payload: { store: 7 } })]);
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T11:00:00Z"));
    expect(s.tick()).toBe(0);
    clock.set(Date.parse("2026-03-01T11:00:00Z"));
    expect(s.tick()).toBe(1);
    expect(jobs().map((j) => j.type)).toEqual(["sync_inventory"]);
    expect(fireTimes()).toEqual(["2026-03-01T11:00:00.000Z"]);
    expect(s.find("sync")).toMatchObject({ nextFireAt: Date.parse("2026-03-01T12:00:00Z"), lastFiredAt: Date.parse("2026-03-01T11:00:00Z") });
    expect(s.tick()).toBe(0);
  });

  for (const [policy, expected] of [["skip", 1], ["all", 72], ["none", 0]] as const) {
    test(`after a 3-day downtime, catch-up "${policy}" fires ${expected} job(s), then follows the schedule`, () => {
      scheduler().declare([hourly({ catchUp: policy })]);
      clock.advance(3 * DAY); // the till was off; now 2026-03-04T10:30Z
      const s = scheduler(); // a new process
      s.declare([hourly({ catchUp: policy })]);
      expect(s.tick()).toBe(expected);
      expect(jobs().length).toBe(expected);
      if (policy === "all") expect(fireTimes().slice(0, 2)).toEqual(["2026-03-01T11:00:00.000Z", "2026-03-01T12:00:00.000Z"]);
      if (policy === "skip") expect(fireTimes()).toEqual(["2026-03-01T11:00:00.000Z"]);
      expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-04T11:00:00Z"));
      clock.set(Date.parse("2026-03-04T11:00:00Z"));
      expect(s.tick()).toBe(1);
    });
  }

  test("catch-up 'all' is capped", () => {
    const s = new Scheduler({ db, queue: new SqliteQueue(db, { clock }), clock, logger: silentLogger, maxCatchUp: 10 });
    s.declare([hourly({ catchUp: "all" })]);
    clock.advance(3 * DAY);
    expect(s.tick()).toBe(10);
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-04T11:00:00Z"));
  });

  test("a crash between the enqueue and the advance leaves neither; the next tick fires once", () => {
    const queue = new SqliteQueue(db, { clock });
    const s = scheduler(queue);
    s.declare([hourly()]);
    clock.set(Date.parse("2026-03-01T11:00:00Z"));
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (job) => {
      enqueue(job);
      throw new Error("power cut");
    };
    expect(s.tick()).toBe(0); // the failure is logged, not thrown
    expect(jobs()).toEqual([]);
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T11:00:00Z"));
    queue.enqueue = enqueue;
    expect(s.tick()).toBe(1);
    expect(jobs().length).toBe(1);
  });

  test("a restart does not fire a tick again, and keeps the durable next fire time", () => {
    scheduler().declare([hourly()]);
    clock.set(Date.parse("2026-03-01T11:00:00Z"));
    const first = scheduler();
    first.declare([hourly()]);
    expect(first.tick()).toBe(1);
    const second = scheduler();
    second.declare([hourly()]);
    expect(second.tick()).toBe(0);
    expect(jobs().length).toBe(1);
    expect(second.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T12:00:00Z"));
  });

  test("two schedulers on one file cannot both fire a tick", () => {
    const a = scheduler();
    const b = scheduler();
    a.declare([hourly()]);
    clock.set(Date.parse("2026-03-01T11:00:00Z"));
    expect(a.tick() + b.tick()).toBe(1);
    expect(jobs().length).toBe(1);
  });

  test("changing a schedule's expression recomputes next_fire_at; an unchanged one keeps it", () => {
    const s = scheduler();
    s.declare([hourly()]);
    clock.advance(10 * 60_000);
    s.declare([hourly()]);
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T11:00:00Z"));
    s.update("sync", { schedule: "*/15 * * * *" });
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T10:45:00Z"));
  });

  test("a paused schedule does not fire; resumed, it follows the schedule from now without catching up", () => {
    const s = scheduler();
    s.declare([hourly({ catchUp: "all" })]);
    s.pause("sync");
    clock.advance(5 * HOUR);
    expect(s.tick()).toBe(0);
    s.declare([hourly({ catchUp: "all" })]); // a restart keeps the operator's pause
    expect(s.find("sync")?.paused).toBe(true);
    s.resume("sync");
    expect(s.find("sync")?.nextFireAt).toBe(Date.parse("2026-03-01T16:00:00Z"));
    expect(s.tick()).toBe(0);
    expect(jobs()).toEqual([]);
  });

  test("run now enqueues at once and leaves the schedule's timing alone", () => {
    const s = scheduler();
    s.declare([hourly()]);
    const before = s.find("sync")!.nextFireAt;
    s.runNow("sync");
    expect(jobs().length).toBe(1);
    expect(s.find("sync")?.nextFireAt).toBe(before);
  });
});
