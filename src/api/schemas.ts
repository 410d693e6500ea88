// The answers' shapes, declared once as TypeBox schemas: the envelope, list meta, job statuses,
// the caller, tokens, schedules, the dashboard's reads, the probes. Routes type themselves with
// these (so Eden's treaty sees them) and /openapi.json is rendered from the same objects
// (openapi.ts names the shared ones as components by identity), so the two cannot drift.
import { Type as t, type Static, type TSchema } from "@sinclair/typebox";
import type { JobStatus as JobStatusName } from "../jobs/types.ts";
import { partialProperties } from "../models/object-types.ts";

const nullable = <T extends TSchema>(schema: T) => t.Union([schema, t.Null()]);
const time = () => t.String({ format: "date-time" });

export const ErrorDetail = t.Object({ field: t.String(), message: t.String() }, { title: "ErrorDetail" });
/** Every error answer: {"error": {code, message, details}} (details always an array). */
export const ErrorEnvelope = t.Object({
  error: t.Object({ code: t.String({ description: "e.g. VALIDATION_ERROR, NOT_FOUND, CONFLICT" }), message: t.String(), details: t.Array(ErrorDetail) }),
}, { title: "Error" });

export const ListMeta = t.Object(
  {
    limit: t.Integer({ minimum: 1 }),
    total: t.Optional(t.Integer({ minimum: 0, description: "page mode: matching rows (job statuses count at most 1,000: see total_is_lower_bound)" })),
    page: t.Optional(t.Integer({ minimum: 1, description: "page mode" })),
    pages: t.Optional(t.Integer({ minimum: 0, description: "page mode" })),
    total_is_lower_bound: t.Optional(t.Boolean({ description: "page mode, job statuses: present and true when the count stopped at its limit (\"1,000+\")" })),
    next_cursor: t.Optional(nullable(t.String({ description: "cursor mode: the position after this page's last row (the cursor sent, on an empty page): send it back to go on, or later to poll for rows added since" }))),
    has_more: t.Optional(t.Boolean({ description: "cursor mode: whether rows followed this page when it was read" })),
  },
  { title: "ListMeta", description: "?page= mode answers total, page, limit, pages; ?cursor= mode answers limit, next_cursor, has_more" },
);

/** A success answer: {"data": …}. */
export const One = <T extends TSchema>(data: T) => t.Object({ data });
/** A list answer: {"data": […], "meta": {…}}. */
export const Many = <T extends TSchema>(item: T) => t.Object({ data: t.Array(item), meta: ListMeta });
/** A short list answered whole (no pages). */
export const All = <T extends TSchema>(item: T) => t.Object({ data: t.Array(item) });

export const JobStatusValue = t.Union([t.Literal("enqueued"), t.Literal("running"), t.Literal("succeeded"), t.Literal("failed"), t.Literal("dead"), t.Literal("cancelled")]);
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** The schema's statuses are the queue's, no more and no fewer (a compile error otherwise). */
export const STATUSES_MATCH: Same<JobStatusName, Static<typeof JobStatusValue>> = true;
export const AttemptOutcomeValue = t.Union([t.Literal("succeeded"), t.Literal("failed"), t.Literal("dead"), t.Literal("released"), t.Literal("interrupted"), t.Literal("running")], {
  description: "failed: a retry followed; dead: the last; released: a shutdown cut it short and put the job back; interrupted: its lease lapsed (the worker died or stalled); running: not over yet",
});
/** One attempt of a job, as GET /api/job_statuses/:id shows it to admins. */
export const JobAttempt = t.Object({
  attempt: t.Integer({ minimum: 1 }),
  started_at: nullable(time()),
  finished_at: nullable(time()),
  duration_ms: nullable(t.Number({ minimum: 0 })),
  outcome: AttemptOutcomeValue,
  error: nullable(t.String()),
  stack: nullable(t.String()),
  worker: nullable(t.String({ description: "the queue instance (process) that ran it" })),
}, { title: "JobAttempt" });
export const JobStatus = t.Object({
  id: t.String(),
  type: t.String(),
  status: JobStatusValue,
  queue: t.String({ description: "the named queue it waits in" }),
  priority: t.Integer(),
  attempts: t.Integer({ minimum: 0 }),
  max_retry: t.Integer({ minimum: 1 }),
  actor_id: nullable(t.String()),
  tenant_id: nullable(t.String()),
  group_key: nullable(t.String()),
  trace_id: nullable(t.String()),
  error: t.Optional(nullable(t.String({ description: "admins only: the last attempt's error" }))),
  result_url: nullable(t.String({ description: "a file:// path on the server is shown to admins only (null for others)" })),
  result_mime: nullable(t.String()),
  output: t.Unknown({ description: "the handler's small JSON result, or null" }),
  run_at: time(),
  created_at: time(),
  started_at: nullable(time()),
  completed_at: nullable(time()),
  updated_at: time(),
  attempts_history: t.Optional(t.Array(JobAttempt, { description: "admins only, on GET /api/job_statuses/:id: every attempt, oldest first" })),
}, { title: "JobStatus" });

export const Me = t.Object({ id: t.String(), name: t.String(), email: t.String(), roles: t.Array(t.String()) }, { title: "Me" });
export const IssuedToken = t.Object({ id: t.String(), user_id: t.String(), token: t.String({ description: "shown once: only its hash is stored" }) }, { title: "IssuedToken" });

export const CatchUp = t.Union([t.Literal("skip"), t.Literal("all"), t.Literal("none")]);
const scheduleFields = {
  schedule: t.String({ minLength: 1, maxLength: 200, description: "a cron expression (docs/cron.md)" }),
  type: t.String({ minLength: 1, maxLength: 200, description: "the job type each tick enqueues" }),
  payload: t.Optional(t.Unknown()),
  timezone: t.Optional(nullable(t.String({ minLength: 1, maxLength: 100 }))),
  catch_up: t.Optional(CatchUp),
};
export const ScheduleCreate = t.Object({ name: t.String({ minLength: 1, maxLength: 100 }), ...scheduleFields }, { additionalProperties: false });
export const ScheduleUpdate = partialProperties(t.Object(scheduleFields), { additionalProperties: false, minProperties: 1 });
export const Schedule = t.Object({
  name: t.String(),
  schedule: t.String(),
  timezone: nullable(t.String()),
  type: t.String(),
  payload: t.Unknown(),
  catch_up: CatchUp,
  paused: t.Boolean(),
  declared: t.Boolean({ description: "declared in code (its definition is restored at each start)" }),
  next_fire_at: nullable(time()),
  last_fired_at: nullable(time()),
  created_at: nullable(time()),
  updated_at: nullable(time()),
}, { title: "Schedule" });
export const JobAccepted = t.Object({ job_id: t.String() });

export const AdminOverview = t.Object({
  counts: t.Array(t.Object({ status: JobStatusValue, type: t.String(), n: t.Integer({ minimum: 0 }) }), { description: "jobs per status and type" }),
  oldest_waiting_since: nullable(time()),
  activity: t.Array(t.Object({ minute: nullable(time()), succeeded: t.Integer(), failed: t.Integer(), dead: t.Integer() }), { description: "the last hour's outcomes, per minute: succeeded and dead count jobs reaching those states, failed counts attempts that failed with a retry scheduled" }),
  activity_by_queue: t.Array(t.Object({ queue: t.String(), succeeded: t.Integer(), failed: t.Integer(), dead: t.Integer() }), { description: "the same hour's outcomes per named queue (queues with none left out)" }),
}, { title: "AdminOverview" });
const epochMs = (description?: string) => t.Integer({ description: description ?? "epoch milliseconds" });
/** One job in full, as the queue holds it (camelCase, epoch milliseconds): the dashboard's view. */
export const AdminJobAttempt = t.Object({
  attempt: t.Integer(), startedAt: nullable(epochMs()), finishedAt: nullable(epochMs()), durationMs: nullable(t.Number()), outcome: AttemptOutcomeValue,
  error: nullable(t.String()), stack: nullable(t.String()), worker: nullable(t.String()),
}, { title: "AdminJobAttempt" });
export const AdminJob = t.Object({
  id: t.String(), type: t.String(), status: JobStatusValue, queue: t.String(), payload: t.Unknown(), priority: t.Integer(), attempts: t.Integer(), maxRetry: t.Integer(),
  actorId: nullable(t.String()), tenantId: nullable(t.String()), groupKey: nullable(t.String()), uniqueKey: nullable(t.String()), traceId: nullable(t.String()),
  error: nullable(t.String()), resultUrl: nullable(t.String()), resultMime: nullable(t.String()), output: t.Unknown(),
  runAt: epochMs(), createdAt: epochMs(), startedAt: nullable(epochMs()), completedAt: nullable(epochMs()), updatedAt: epochMs(),
  attemptsHistory: t.Array(AdminJobAttempt, { description: "every attempt, oldest first" }),
}, { title: "AdminJob" });

const count = () => t.Integer({ minimum: 0 });
/** A named queue, as GET /api/queues lists it. */
export const NamedQueue = t.Object({
  name: t.String(),
  paused: t.Boolean({ description: "a paused queue accepts jobs and none of them is claimed until it is resumed" }),
  concurrency: nullable(t.Integer({ minimum: 1, description: "its limit per process; null when it only shares the worker pool" })),
  running: count(),
  counts: t.Object({ enqueued: count(), running: count(), succeeded: count(), failed: count(), dead: count(), cancelled: count() }, { description: "its jobs by status (succeeded: those still kept)" }),
  rate_limit: nullable(t.Object({ limit: t.Integer({ minimum: 1 }), interval_ms: t.Number({ minimum: 0 }) })),
}, { title: "NamedQueue" });
/** The most jobs one bulk call acts on (by ids, or the first of those matching a filter). */
export const BULK_LIMIT = 500;
const BulkVerb = t.Union([t.Literal("retry"), t.Literal("cancel"), t.Literal("delete")], { description: "retry: dead jobs run again; cancel: jobs not started; delete: finished jobs (succeeded, dead, cancelled) are removed" });
export const BulkAction = t.Object({
  action: BulkVerb,
  ids: t.Optional(t.Array(t.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: BULK_LIMIT, uniqueItems: true, description: `the selected jobs (at most ${BULK_LIMIT}); each is answered in results. Not with status or type` })),
  status: t.Optional(t.String({ description: "without ids, cancel: only jobs in this state (enqueued or failed)" })),
  type: t.Optional(t.String({ description: `without ids: only jobs of this type (retry: the first ${BULK_LIMIT} dead ones; cancel: the first ${BULK_LIMIT} not started)` })),
}, { additionalProperties: false, title: "BulkAction" });
export const BulkOutcome = t.Union([t.Literal("retried"), t.Literal("cancelled"), t.Literal("deleted"), t.Literal("not_found"), t.Literal("not_dead"), t.Literal("running"), t.Literal("finished"), t.Literal("not_finished")], { description: "what became of one job: retried / cancelled / deleted, or why not" });
export const BulkResult = t.Object({
  action: BulkVerb,
  affected: t.Integer({ minimum: 0 }),
  limit: t.Integer(),
  results: t.Optional(t.Array(t.Object({ id: t.String(), result: BulkOutcome }), { description: "with ids: one entry per id, in the order sent" })),
}, { title: "BulkResult" });

/** A webhook delivery job as the dashboard's Webhooks page shows it (admin). */
export const WebhookDelivery = t.Object({
  id: t.String({ description: "the delivery job's id" }),
  status: JobStatusValue,
  attempts: t.Integer({ minimum: 0 }),
  max_retry: t.Integer(),
  subscription: nullable(t.String({ description: "db:<subscription id> (REST) or code:<name> (configured in code)" })),
  event_type: nullable(t.String()),
  event_id: nullable(t.String()),
  last_http_status: nullable(t.Integer({ description: "the receiver's most recent HTTP answer (the success's status, or the newest refusal among the attempts); null when it never answered (refused, timed out, not tried yet)" })),
  error: nullable(t.String({ description: "the last attempt's error" })),
  created_at: time(),
  updated_at: time(),
}, { title: "WebhookDelivery" });

export const Health = t.Object({ status: t.Literal("ok") });
export const ReadinessCheckResult = t.Object({ name: t.String(), ok: t.Boolean(), error: t.Optional(t.String()) });
export const Ready = t.Object({ status: t.Literal("ready"), checks: t.Array(ReadinessCheckResult) }, { title: "Readiness" });
