// The dashboard's API (admin role): an overview read through partial indexes and in-memory
// activity (never a scan of finished jobs), one job in full, bulk retry/cancel/delete of the
// selected jobs (or retry/cancel by filter; at most 500 jobs per call), and webhook deliveries
// with their receiver's last answer, and redelivery. The page itself is GET /admin (admin-page.ts).
import type { Static } from "@sinclair/typebox";
import type { Elysia } from "elysia";
import { BODY_ERRORS, errors } from "./route-docs.ts";
import { AdminJob, AdminOverview, BULK_LIMIT, BulkAction, BulkResult, JobAccepted, All, One, WebhookDelivery } from "./schemas.ts";
import type { Condition } from "../db/list-query.ts";
import type { Activity } from "../ops/activity.ts";
import { ADMIN_PAGE } from "./admin-page.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { invalidQuery, notFound, validationError } from "../errors.ts";
import { htmlPage } from "./html-page.ts";
import { isoOrNull } from "../models/serialize.ts";
import { lazyCheck, validateBody } from "../models/validate.ts";
import { deliveryHttpStatus, WEBHOOK_JOB } from "../models/webhooks.ts";
import { JOB_STATUSES, type JobStatus } from "../jobs/types.ts";

const bulkCheck = lazyCheck(BulkAction);
type Bulk = Static<typeof BulkAction>;
type BulkOutcome = NonNullable<Static<typeof BulkResult>["results"]>[number]["result"];
/** Deliveries listed per call: each is read in full (its payload names the event). */
const MAX_DELIVERIES = 50;

export function adminRoutes(ctx: AppContext, activity?: Activity) {
  const queue = ctx.services.queue;
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);
  const docs = ctx.docs;
  const tags = ["admin"];

  /** One job acted on; the answer says what became of it (or why nothing did). */
  const act = async (action: Bulk["action"], id: string): Promise<BulkOutcome> => {
    if (action === "retry") return await queue.retry(id);
    if (action === "cancel") return await queue.cancel(id);
    return await queue.delete(id);
  };

  /** Without ids: the first BULK_LIMIT jobs the filter form names (retry: dead; cancel: not started). */
  const byFilter = async (b: Bulk): Promise<string[]> => {
    if (b.action === "delete") throw validationError([{ field: "ids", message: "delete acts on selected jobs only: send ids" }]);
    const where: Condition[][] = [[{ field: "status", op: b.action === "retry" ? "eq" : "in", value: b.action === "retry" ? "dead" : ["enqueued", "failed"] }]];
    if (b.type) where.push([{ field: "type", op: "eq", value: b.type }]);
    if (b.status && b.action === "cancel") where.push([{ field: "status", op: "eq", value: b.status }]);
    const { rows } = await queue.listStatuses({ where, sort: [{ field: "id", direction: "asc" }], limit: BULK_LIMIT, offset: 0, skipTotal: true });
    return rows.map((row) => String(row.id));
  };

  return (app: Elysia) => app
    .get("/admin", htmlPage(ADMIN_PAGE, { "cache-control": "no-store" }))
    .get("/api/admin/overview", async ({ request }) => {
      admin(request);
      const now = ctx.services.clock.now();
      const oldest = await queue.nextDueAt(-1);
      return {
        data: {
          counts: await queue.stateCounts(),
          oldest_waiting_since: oldest !== null && oldest <= now ? isoOrNull(oldest) : null,
          activity: (activity?.lastHour(now) ?? []).map((m) => ({ ...m, minute: isoOrNull(m.minute) })),
          activity_by_queue: activity?.lastHourByQueue(now) ?? [],
        },
      };
    }, docs.route({ method: "GET", path: "/api/admin/overview", operationId: "getAdminOverview", summary: "The dashboard's overview: jobs per status and type, the oldest waiting job, the last hour per minute and per queue (admin)", tags, response: { 200: One(AdminOverview), ...errors(401, 403) } }))
    .get("/api/admin/jobs/:id", async ({ request, params }) => {
      admin(request);
      const state = await queue.getStatus(params.id);
      if (!state) throw notFound("job");
      return { data: state };
    }, docs.route({ method: "GET", path: "/api/admin/jobs/:id", operationId: "getAdminJob", summary: "One job in full: payload, error, times in epoch milliseconds (admin)", tags, response: { 200: One(AdminJob), ...errors(401, 403, 404) } }))
    .post("/api/admin/jobs/bulk", async ({ request, body }) => {
      admin(request);
      const b = validateBody<Bulk>(bulkCheck, body);
      if (b.ids && (b.type !== undefined || b.status !== undefined)) throw validationError([{ field: "ids", message: "send either ids or a filter (type, status), not both" }]);
      const ids = b.ids ?? (await byFilter(b));
      const results: { id: string; result: BulkOutcome }[] = [];
      for (const id of ids) results.push({ id, result: await act(b.action, id) });
      const affected = results.filter((r) => r.result === "retried" || r.result === "cancelled" || r.result === "deleted").length;
      return { data: { action: b.action, affected, limit: BULK_LIMIT, ...(b.ids ? { results } : {}) } };
    }, docs.route({ method: "POST", path: "/api/admin/jobs/bulk", operationId: "bulkJobs", summary: `Retry, cancel or delete the selected jobs (ids), or retry dead / cancel waiting jobs by type (at most ${BULK_LIMIT} per call; admin)`, tags, body: BulkAction, response: { 200: One(BulkResult), ...errors(...BODY_ERRORS, 401, 403) } }))
    .get("/api/admin/webhook_deliveries", async ({ request }) => {
      admin(request);
      const params = new URL(request.url).searchParams;
      const limit = Number(params.get("limit") ?? 20);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DELIVERIES) throw invalidQuery(`limit must be between 1 and ${MAX_DELIVERIES}`, "limit");
      const statuses = params.get("status")?.split(",") ?? [];
      const unknown = statuses.find((s) => !JOB_STATUSES.includes(s as JobStatus));
      if (unknown !== undefined) throw invalidQuery(`status must be among ${JOB_STATUSES.join(", ")}, not "${unknown}"`, "status");
      const where: Condition[][] = [[{ field: "type", op: "eq", value: WEBHOOK_JOB }]];
      if (statuses.length) where.push([{ field: "status", op: "in", value: statuses }]);
      const { rows } = await queue.listStatuses({ where, sort: [{ field: "id", direction: "desc" }], limit, offset: 0, skipTotal: true });
      const data = [];
      for (const row of rows) {
        const job = await queue.getStatus(String(row.id));
        if (!job) continue; // pruned between the two reads
        const { subscription, event } = (job.payload ?? {}) as { subscription?: string; event?: { type?: string; id?: string } };
        data.push({
          id: job.id, status: job.status, attempts: job.attempts, max_retry: job.maxRetry,
          subscription: subscription ?? null, event_type: event?.type ?? null, event_id: event?.id ?? null,
          last_http_status: deliveryHttpStatus(job.status, job.output, [job.error, ...job.attemptsHistory.map((a) => a.error).reverse()]), error: job.error,
          created_at: new Date(job.createdAt).toISOString(), updated_at: new Date(job.updatedAt).toISOString(),
        });
      }
      return { data };
    }, docs.route({ method: "GET", path: "/api/admin/webhook_deliveries", operationId: "listWebhookDeliveries", summary: `The newest webhook deliveries (?status=failed,dead to narrow; ?limit= up to ${MAX_DELIVERIES}): event, receiver's last HTTP status, error (admin)`, tags, response: { 200: All(WebhookDelivery), ...errors(400, 401, 403) } }))
    .post("/api/admin/webhook_deliveries/:id/redeliver", async ({ request, params, status }) => {
      admin(request);
      const job = await queue.getStatus(params.id);
      if (!job || job.type !== WEBHOOK_JOB) throw notFound("webhook delivery");
      // A new delivery of the same event to the same subscription (same event id, so a receiver
      // that de-duplicates sees a repeat); the original keeps its history.
      const jobId = queue.enqueue({ type: WEBHOOK_JOB, queue: job.queue, payload: job.payload, maxRetry: job.maxRetry, traceId: job.traceId });
      return status(202, { data: { job_id: jobId } });
    }, docs.route({ method: "POST", path: "/api/admin/webhook_deliveries/:id/redeliver", operationId: "redeliverWebhook", summary: "Deliver a webhook event again, as a new delivery job (admin)", tags, response: { 202: One(JobAccepted), ...errors(401, 403, 404) } }));
}
