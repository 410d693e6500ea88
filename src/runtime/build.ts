// Builds an app from its definition on the pieces the caller opened (database, queue, mailer,
// bus, scheduler): the HTTP app and model layer (src/api/app.ts), the handlers every job type
// needs (the app's, webhook delivery, retention) and the schedules to declare. The server
// (server.ts) opens those pieces from settings; tests pass their own.
import { createApp, type AnyAction, type AnyModel, type AppOf, type AppOptions } from "../api/app.ts";
import type { ScheduleDefinition } from "../cron/scheduler.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { SandboxModule } from "../jobs/sandbox-protocol.ts";
import type { SyncEnqueue } from "../jobs/sync-queue.ts";
import type { NewJob } from "../jobs/types.ts";
import { silentLogger } from "../log.ts";
import type { AppQueue } from "../models/services.ts";
import { jobDefinitions, withTypeDefaults, type AppDefinition, type JobDefinition, type RuntimeContext } from "./define.ts";
import type { Mailer } from "./mailer.ts";
import { DEFAULT_RETENTION, RETENTION_JOB, retentionHandler, retentionSchedule, type RetentionOptions } from "./retention.ts";
import type { FlagValues } from "./settings.ts";

export interface BuildOptions extends Omit<AppOptions, "models" | "actions" | "title" | "version" | "queue"> {
  queue: AppQueue;
  mailer: Mailer;
  /** The app's own settings, resolved (defaults are applied for those not given). */
  settings?: FlagValues;
  retention?: Partial<RetentionOptions>;
}

/** The type of an app's Elysia instance, for Eden's `treaty<AppType<typeof app>>`. */
export type AppType<D> = D extends AppDefinition<infer Models, infer Actions> ? AppOf<Models, Actions> : never;

export function buildApp<const Models extends readonly AnyModel[], const Actions extends readonly AnyAction[]>(definition: AppDefinition<Models, Actions>, options: BuildOptions) {
  const settings = { ...defaultSettings(definition), ...options.settings };
  let jobs: Record<string, JobDefinition> = {};
  // Jobs the app's code enqueues get their type's defaults (retries, timeout, group key).
  const queue = typeDefaultingQueue(options.queue, () => jobs);
  const built = createApp<Models, Actions>({
    ...options,
    queue,
    models: definition.models,
    actions: definition.actions,
    title: definition.name,
    version: definition.version,
    queues: definition.queues ?? {},
  });
  const context: RuntimeContext = { services: built.services, mailer: options.mailer, settings, logger: options.logger ?? silentLogger };
  jobs = jobDefinitions(definition, context);
  definition.setup?.(context);
  // Inline handlers run on this thread; sandboxed types are handed to a SandboxPool, whose
  // handlers() join these (server.ts), or run in-process by backroom/testing.
  const handlers: Record<string, Handler> = {
    ...built.jobHandlers,
    [RETENTION_JOB]: retentionHandler(built.services, { ...DEFAULT_RETENTION, ...options.retention }),
    ...Object.fromEntries(Object.entries(jobs).flatMap(([type, job]) => (job.handler ? [[type, job.handler]] : []))),
  };
  const sandboxes: Record<string, SandboxModule> = Object.fromEntries(Object.entries(jobs).flatMap(([type, job]) => (job.sandbox ? [[type, job.sandbox]] : [])));
  const schedules: ScheduleDefinition[] = [...(definition.schedules ?? []), retentionSchedule];
  return { ...built, handlers, sandboxes, schedules, jobs, context, seed: () => definition.seed?.(context) };
}

export type BuiltApp = ReturnType<typeof buildApp>;

/** The declared defaults of the app's own settings. */
export function defaultSettings(definition: AppDefinition): FlagValues {
  return Object.fromEntries(Object.entries(definition.settings ?? {}).map(([name, spec]) => [name, spec.default]));
}

/** An enqueue side on which each job gets its type's defaults (for the scheduler's queue too). */
export function typeDefaultingEnqueue(queue: SyncEnqueue, jobs: () => Record<string, JobDefinition>): SyncEnqueue {
  const fill = (job: NewJob) => withTypeDefaults(job, jobs()[job.type]);
  return {
    enqueue: (job) => queue.enqueue(fill(job)),
    enqueueAt: (at, job) => queue.enqueueAt(at, fill(job)),
    enqueueMany: (list) => queue.enqueueMany(list.map(fill)),
    onAvailable: (listener) => queue.onAvailable(listener),
  };
}

/** The queue as the app's code sees it: each enqueue gets its type's defaults. */
function typeDefaultingQueue(queue: AppQueue, jobs: () => Record<string, JobDefinition>): AppQueue {
  return {
    ...typeDefaultingEnqueue(queue, jobs),
    synchronousReads: queue.synchronousReads,
    cancel: (id) => queue.cancel(id),
    retry: (id) => queue.retry(id),
    stateCounts: () => queue.stateCounts(),
    getStatus: (id) => queue.getStatus(id),
    ...(queue.getStatusRecord ? { getStatusRecord: (id: string) => queue.getStatusRecord!(id) } : {}),
    listStatuses: (query) => queue.listStatuses(query),
    pruneFinished: (statuses, before, limit) => queue.pruneFinished(statuses, before, limit),
    delete: (id) => queue.delete(id),
    setQueuePaused: (name, paused, ifUnset) => queue.setQueuePaused(name, paused, ifUnset),
    queueStates: () => queue.queueStates(),
    nextDueAt: (after) => queue.nextDueAt(after),
  };
}
