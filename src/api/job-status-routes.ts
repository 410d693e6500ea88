// The seeds' StatusModel: GET /api/job_statuses (filter, sort, paginate) and
// GET /api/job_statuses/:id; writes are 405 JOB_STATUS_READONLY with `Allow: GET`. Signed-in callers see only their own actor_id
// rows unless they have the admin role; anonymous callers see all (the seeds' library default)
// unless the app says otherwise (the shipped binary does). Beyond the seeds: cancel (anyone
// who can see the job) and retry of a dead job (admin). `error`, and a `result_url` that is a
// path on the server (file://), are shown to admins only: they can leak internals.
import type { Elysia } from "elysia";
import type { Static } from "@sinclair/typebox";
import { errors } from "./route-docs.ts";
import { JobAttempt, JobStatus, Many, One } from "./schemas.ts";
import { publishJobStateEvent } from "../events/job-events.ts";
import { hideJobInternals } from "../jobs/internals.ts";
import { attemptHistoryOf } from "../jobs/rows.ts";
import { stateToStatusRow, STATUS_COLUMNS, type StatusRecord, type StatusRow } from "../jobs/status-columns.ts";
import type { AttemptRecord, JobState } from "../jobs/types.ts";
import { errorMessage } from "../log.ts";
import type { AuthUser } from "../models/users.ts";
import type { AppContext } from "./context.ts";
import { conflict, forbidden, notFound, unauthorized } from "../errors.ts";
import { keysetMeta } from "./cursor.ts";
import { engineQuery, listQuerySchema, parseListParams, type ListQuerySchema } from "./list-params.ts";
import { listEnvelope } from "./model-routes.ts";
import { isoOrNull, rowToJson } from "../models/serialize.ts";
import { syncRoute } from "./sync-route.ts";

const COUNT_LIMIT = 1_000;

export interface JobStatusRouteOptions {
  /** Whether callers without a token may read statuses (all of them). Default true, as in the seeds. */
  anonymousRead: boolean;
}

/**
 * A job's status as the API shows it: snake_case, ISO-8601 times; internals for admins only.
 * Also what `backroom jobs show|list --json` prints (an operator's view: admin).
 */
export function jobStatusToJson(row: StatusRow, admin: boolean): Record<string, unknown> {
  if (admin) return rowToJson(row, STATUS_COLUMNS);
  return hideJobInternals(rowToJson(row, PUBLIC_COLUMNS));
}

// What hideJobInternals deletes is not written in the first place: a deleted key turns the
// object into a dictionary, which JSON serializes by its slow path on every read.
const PUBLIC_COLUMNS = STATUS_COLUMNS.filter((column) => column.name !== "error");

export function jobStatusRoutes(ctx: AppContext, options: JobStatusRouteOptions) {
  const { reads, writes } = jobStatusRouteParts(ctx, options);
  return (app: Elysia) => app.use(reads).use(writes);
}

/**
 * The same routes as reads and writes, so an app can add its reads before its body parser
 * (app.ts): function plugins, each adding its routes to the app it is given (model-routes.ts).
 */
export function jobStatusRouteParts(ctx: AppContext, options: JobStatusRouteOptions) {
  const queue = ctx.services.queue;
  const base = "/api/job_statuses";
  const item = `${base}/:id` as const;
  const tags = ["job_statuses"];
  const docs = ctx.docs.section();
  const row = JobStatus;

  const reader = (request: Request): AuthUser | null => {
    const user = ctx.auth(request);
    if (!user && !options.anonymousRead) throw unauthorized();
    return user;
  };
  const sees = (user: AuthUser | null, state: JobState) => !user || ctx.isAdmin(user) || state.actorId === user.id;
  const wire = (r: StatusRow, user: AuthUser | null) => jobStatusToJson(r, ctx.isAdmin(user)) as Static<typeof row>;
  const visible = async (request: Request, id: string) => {
    const user = reader(request);
    const state = await queue.getStatus(id);
    if (!state || !sees(user, state)) throw notFound("job");
    return { user, state };
  };
  const answer = (user: AuthUser | null, state: JobState | null) => {
    if (!state || !sees(user, state)) throw notFound("job");
    const data = wire(stateToStatusRow(state), user);
    // Every attempt's error and stack: internals, for admins only (internals.ts).
    if (ctx.isAdmin(user)) data.attempts_history = attemptsToJson(state.attemptsHistory);
    return { data };
  };
  // The stored row straight to the wire: no JobState in between (whose payload would be parsed
  // and output stringified back for the serializer, on every poll of a job's status).
  const answerRecord = (user: AuthUser | null, record: StatusRecord | null) => {
    if (!record || (user && !ctx.isAdmin(user) && record.actor_id !== user.id)) throw notFound("job");
    const data = wire(record, user);
    if (ctx.isAdmin(user)) data.attempts_history = attemptsToJson(attemptHistoryOf(record));
    return { data };
  };
  type ItemContext = { request: Request; params: Record<string, string> };
  // A queue that reads synchronously (SQLite) is answered without a promise (sync-route.ts).
  const statusRecord = queue.getStatusRecord?.bind(queue);
  const getOne = statusRecord
    ? syncRoute(({ request, params }: ItemContext) => answerRecord(reader(request), statusRecord(params.id!)))
    : queue.synchronousReads
      ? syncRoute(({ request, params }: ItemContext) => answer(reader(request), queue.getStatus(params.id!) as JobState | null))
      : async ({ request, params }: ItemContext) => answer(reader(request), await queue.getStatus(params.id!));

  let listQuery: ListQuerySchema | undefined; // built when the document reads it (model-routes.ts)
  const reads = (app: Elysia) => app
    .get(base, async ({ request }) => {
      const user = reader(request);
      const query = parseListParams(new URL(request.url).searchParams, STATUS_COLUMNS);
      // The scope first: engines that test rows one by one rule out others' rows before any pattern.
      if (user && !ctx.isAdmin(user)) query.where.unshift([{ field: "actor_id", op: "eq", value: user.id }]);
      // The jobs table may hold millions of finished jobs: count at most COUNT_LIMIT per request.
      query.countLimit = COUNT_LIMIT;
      const { rows, total } = await queue.listStatuses(engineQuery(query));
      if (query.cursor !== null) {
        const page = keysetMeta(rows, query, query.cursor);
        return { data: page.rows.map((r) => wire(r, user)), meta: page.meta };
      }
      const { meta } = listEnvelope([], total, query);
      return { data: rows.map((r) => wire(r, user)), meta: total >= COUNT_LIMIT ? { ...meta, total_is_lower_bound: true } : meta };
    }, docs.route({ method: "GET", path: base, operationId: "listJobStatuses", summary: "List job statuses (your own; all for admins)", tags, ...(options.anonymousRead ? { auth: "optional" as const } : {}), get query() { return (listQuery ??= listQuerySchema(STATUS_COLUMNS)); }, response: { 200: Many(row), ...errors(400, 401) } }))
    .get(item, getOne, docs.route({ method: "GET", path: item, operationId: "getJobStatus", summary: "Get a job status (admins also see attempts_history)", tags, ...(options.anonymousRead ? { auth: "optional" as const } : {}), response: { 200: One(row), ...errors(401, 404) } }));
  const writes = (app: Elysia) => app
    .post(`${item}/cancel`, async ({ request, params }) => {
      const { user, state } = await visible(request, params.id);
      const result = await queue.cancel(state.id);
      if (result === "running") throw conflict("the job has already started; a running job cannot be cancelled");
      if (result === "finished") throw conflict(`the job has already finished (${state.status})`);
      if (result === "not_found") throw notFound("job");
      const cancelled = (await queue.getStatus(state.id))!;
      const bus = ctx.services.bus;
      if (bus) ctx.services.db.afterCommit(() => void publishJobStateEvent(bus, cancelled).catch((error) => ctx.services.logger.log("error", "could not publish an event", { job_id: cancelled.id, error: errorMessage(error) })));
      return { data: wire(stateToStatusRow(cancelled), user) };
    }, docs.route({ method: "POST", path: `${item}/cancel`, operationId: "cancelJob", summary: "Cancel a job that has not started", tags, response: { 200: One(row), ...errors(401, 404, 409) } }))
    .post(`${item}/retry`, async ({ request, params }) => {
      const user = ctx.auth(request);
      if (!user) throw unauthorized();
      if (!ctx.isAdmin(user)) throw forbidden("retrying a job needs the admin role");
      const result = await queue.retry(params.id);
      if (result === "not_found") throw notFound("job");
      if (result === "not_dead") throw conflict("only a dead job can be retried");
      return { data: wire(stateToStatusRow((await queue.getStatus(params.id))!), user) };
    }, docs.route({ method: "POST", path: `${item}/retry`, operationId: "retryJob", summary: "Retry a dead job (admin)", tags, response: { 200: One(row), ...errors(401, 403, 404, 409) } }));
  return { reads, writes };
}

/** A job's attempts as the wire shows them: snake_case, ISO-8601 times. */
export function attemptsToJson(history: readonly AttemptRecord[]): Static<typeof JobAttempt>[] {
  return history.map((a) => ({
    attempt: a.attempt, started_at: isoOrNull(a.startedAt), finished_at: isoOrNull(a.finishedAt), duration_ms: a.durationMs,
    outcome: a.outcome, error: a.error, stack: a.stack, worker: a.worker,
  }));
}

/** Writes to the rows themselves: the seeds' 405, with their code and `Allow: GET` (app.ts answers them: jobStatusReadonly). */
export const READONLY_PATHS = ["/api/job_statuses", "/api/job_statuses/:id"];
