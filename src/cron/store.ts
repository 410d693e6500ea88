// Schedules as rows: the expression, what to enqueue, and — the durable part — when each fires
// next (`next_fire_at`) and last fired. The file, not memory, says whether a tick happened.
import type { Migration } from "../db/migrations.ts";

export type CatchUp = "skip" | "all" | "none";
export const CATCH_UP_POLICIES: readonly CatchUp[] = ["skip", "all", "none"];

export const cronMigrations: Migration[] = [
  {
    component: "cron",
    version: 1,
    name: "schedules",
    up: `
      CREATE TABLE schedules (
        name          TEXT    PRIMARY KEY,
        schedule      TEXT    NOT NULL,
        timezone      TEXT,
        type          TEXT    NOT NULL,
        payload       TEXT    NOT NULL,
        catch_up      TEXT    NOT NULL CHECK (catch_up IN ('skip', 'all', 'none')),
        paused        INTEGER NOT NULL DEFAULT 0,
        declared      INTEGER NOT NULL DEFAULT 0,
        next_fire_at  INTEGER,
        last_fired_at INTEGER,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      -- The ticker's question: which active schedule is due first.
      CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE paused = 0;`,
  },
];

export interface ScheduleRow {
  name: string;
  schedule: string;
  timezone: string | null;
  type: string;
  payload: string;
  catch_up: CatchUp;
  paused: number;
  declared: number;
  next_fire_at: number | null;
  last_fired_at: number | null;
  created_at: number;
  updated_at: number;
}

/** A schedule as code and the REST API see it. Times are epoch ms. */
export interface ScheduleState {
  name: string;
  schedule: string;
  timezone: string | null;
  type: string;
  payload: unknown;
  catchUp: CatchUp;
  paused: boolean;
  /** Declared in code (re-applied at every start) rather than created over REST. */
  declared: boolean;
  nextFireAt: number | null;
  lastFiredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export function rowToSchedule(row: ScheduleRow): ScheduleState {
  return {
    name: row.name,
    schedule: row.schedule,
    timezone: row.timezone,
    type: row.type,
    payload: JSON.parse(row.payload),
    catchUp: row.catch_up,
    paused: row.paused === 1,
    declared: row.declared === 1,
    nextFireAt: row.next_fire_at,
    lastFiredAt: row.last_fired_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
