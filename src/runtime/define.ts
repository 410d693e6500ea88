// What an application built on Backroom declares: its models and actions, its job handlers
// (with their retry, timeout and grouping), its schedules, its own settings and first-start
// data. One plain object, checked once by defineApp; the runtime (build.ts, server.ts) and the
// CLI (src/cli/run.ts) take it from there. Nothing here opens a file or a socket.
import { cronMigrations } from "../cron/store.ts";
import type { ScheduleDefinition } from "../cron/scheduler.ts";
import type { Migration } from "../db/migrations.ts";
import type { Handler } from "../jobs/attempt.ts";
import { jobsMigrations } from "../jobs/sqlite.ts";
import { outboxMigrations } from "../events/outbox.ts";
import { checkQueueDefinitions, type QueueDefinitions } from "../jobs/named-queues.ts";
import type { SandboxModule } from "../jobs/sandbox-protocol.ts";
import { QUEUE_NAME, type NewJob } from "../jobs/types.ts";
import type { Logger } from "../log.ts";
import type { AnyAction, AnyModel } from "../api/app.ts";
import type { Model } from "../models/model.ts";
import { appMigrations } from "../models/model-layer.ts";
import type { Services } from "../models/services.ts";
import type { Mailer } from "./mailer.ts";
import { RETENTION_JOB } from "./retention.ts";
import type { FlagSpec, FlagValues } from "./settings.ts";

/**
 * A job type: its handler — inline (`handler`, the default: runs on the main thread, for I/O) or
 * sandboxed (`sandbox`: a module's export, run in a pool of worker threads, for CPU-heavy work;
 * docs/jobs.md) — and the defaults every job of the type gets unless its enqueue says otherwise.
 */
export type JobDefinition = JobDefaults & ({ handler: Handler; sandbox?: undefined } | { sandbox: SandboxModule; handler?: undefined });

export interface JobDefaults {
  /** The most attempts, the first included. Default 3. */
  maxRetry?: number;
  /** An attempt running longer fails (its signal is aborted). Default: the worker's 5 minutes. */
  timeoutMs?: number;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** At most one job per group key runs at a time: the key of a job, from its payload. */
  groupKey?: (payload: unknown) => string | null;
  /** The named queue its jobs wait in (an enqueue may name another). Default "default". */
  queue?: string;
}

/** What an app's handlers and first-start data get from the running runtime. */
export interface RuntimeContext {
  services: Services;
  mailer: Mailer;
  /** The app's own settings (AppDefinition.settings), resolved: flags, environment, config file, defaults. */
  settings: FlagValues;
  logger: Logger;
}

export type JobHandlers = Record<string, Handler | JobDefinition>;

export interface AppDefinition<Models extends readonly AnyModel[] = readonly AnyModel[], Actions extends readonly AnyAction[] = readonly AnyAction[]> {
  /** The binary's name, as --help shows it and the OpenAPI document's title. */
  name: string;
  version: string;
  /** One line for --help. */
  description?: string;
  /** Each model is a table with CRUD routes under /api/<table> (typed: the app's type carries them). */
  models?: Models;
  /** Routes of your own: `defineAction` (typed likewise). */
  actions?: Actions;
  /** Handlers by job type; a function when they need the runtime (services, mailer, settings). */
  jobs?: JobHandlers | ((context: RuntimeContext) => JobHandlers);
  /** Declared in code: created at start if missing, updated if changed (docs/cron.md). */
  schedules?: ScheduleDefinition[];
  /**
   * Named queues: each one's concurrency limit and rate limit (per process), and whether it
   * starts paused — a first state only: once paused or resumed at run time, the stored state
   * wins (docs/jobs.md). A queue needs no declaration to be used.
   */
  queues?: QueueDefinitions;
  /** The app's own settings, beside the runtime's (`serve --help` lists them). */
  settings?: Record<string, FlagSpec>;
  /** Sender of the app's mail. Default "<name> <noreply@localhost>". */
  mailFrom?: string;
  /**
   * Runs once when the app is built, before anything is served or run: register write hooks
   * (`services.pipeline.register(…)`: validation across models, derived fields, side effects).
   */
  setup?(context: RuntimeContext): void;
  /** Runs at every start before the first request, inside no transaction: first-start data. */
  seed?(context: RuntimeContext): void;
}

const TYPE_NAME = /^[a-z][a-z0-9_.-]{0,99}$/;

/** Checks an app definition once, so a mistake is found at start, not at the first request. */
export function defineApp<const Definition extends AppDefinition>(definition: Definition): Definition {
  if (!/^[a-z][a-z0-9-]{0,63}$/.test(definition.name)) throw new Error(`app name must be lower-case letters, digits and dashes, got "${definition.name}"`);
  if (typeof definition.jobs === "object") {
    for (const [type, job] of Object.entries(definition.jobs)) {
      if (!TYPE_NAME.test(type)) throw new Error(`job type "${type}" must be lower-case letters, digits, _ . -`);
      if (type === RETENTION_JOB) throw new Error(`job type "${RETENTION_JOB}" is the runtime's own (retention)`);
      const queue = typeof job === "function" ? undefined : job.queue;
      if (queue !== undefined && !QUEUE_NAME.test(queue)) throw new Error(`job type "${type}": queue "${queue}" must be 1–64 of a-z 0-9 _ . - starting with a letter or digit`);
      if (typeof job !== "function") checkJobDefinition(type, job);
    }
  }
  checkQueueDefinitions(definition.queues ?? {});
  const names = new Set<string>();
  for (const schedule of definition.schedules ?? []) {
    if (names.has(schedule.name)) throw new Error(`schedule "${schedule.name}" is declared twice`);
    names.add(schedule.name);
  }
  return definition;
}

/** Every migration the app's database needs: the queue's, the scheduler's, the models'. */
export function migrationsOf(definition: AppDefinition): Migration[] {
  return [...jobsMigrations, ...cronMigrations, ...outboxMigrations, ...appMigrations([...(definition.models ?? [])] as Model[])];
}

/** The app's job definitions, each a handler (inline or sandboxed) with its defaults. */
export function jobDefinitions(definition: AppDefinition, context: RuntimeContext): Record<string, JobDefinition> {
  const jobs = typeof definition.jobs === "function" ? definition.jobs(context) : (definition.jobs ?? {});
  return Object.fromEntries(Object.entries(jobs).map(([type, job]) => [type, typeof job === "function" ? { handler: job } : checkJobDefinition(type, job)]));
}

function checkJobDefinition(type: string, job: JobDefinition): JobDefinition {
  if ((typeof job.handler === "function") === (job.sandbox !== undefined)) throw new Error(`job type "${type}" must declare either a handler or a sandbox module, not ${job.sandbox ? "both" : "neither"}`);
  if (job.sandbox && !(job.sandbox.module instanceof URL || typeof job.sandbox.module === "string")) throw new Error(`job type "${type}": sandbox.module must be a URL or a path`);
  return job;
}

/** A job as enqueued, with its type's defaults filled in where it set none. */
export function withTypeDefaults(job: NewJob, definition: JobDefinition | undefined): NewJob {
  // Most types declare only a handler: their jobs pass through untouched (no copy per enqueue).
  if (!definition || (definition.maxRetry === undefined && definition.timeoutMs === undefined && definition.priority === undefined && !definition.groupKey && definition.queue === undefined)) return job;
  return {
    ...job,
    maxRetry: job.maxRetry ?? definition.maxRetry,
    timeoutMs: job.timeoutMs ?? definition.timeoutMs,
    priority: job.priority ?? definition.priority,
    groupKey: job.groupKey !== undefined ? job.groupKey : (definition.groupKey?.(job.payload) ?? undefined),
    queue: job.queue ?? definition.queue,
  };
}
