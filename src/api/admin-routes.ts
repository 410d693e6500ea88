// The dashboard's API (admin role): an overview read through partial indexes and in-memory
// activity (never a scan of finished jobs), one job in full, and bulk retry/cancel by filter
// (at most 500 jobs per call). The page itself is GET /admin (admin-page.ts).
import type { Static } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Elysia } from "elysia";
import { BODY_ERRORS, errors } from "./route-docs.ts";
import { AdminJob, AdminOverview, BulkAction, BulkResult, One } from "./schemas.ts";
import type { Condition } from "../db/list-query.ts";
import type { Activity } from "../ops/activity.ts";
import { ADMIN_PAGE } from "./admin-page.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { htmlPage } from "./html-page.ts";
import { isoOrNull } from "../models/serialize.ts";
import { validateBody } from "../models/validate.ts";

const BULK_LIMIT = 500;
const bulkCheck = TypeCompiler.Compile(BulkAction);

export function adminRoutes(ctx: AppContext, activity?: Activity) {
  const queue = ctx.services.queue;
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);
  const docs = ctx.docs;
  const tags = ["admin"];

  return new Elysia()
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
        },
      };
    }, docs.route({ method: "GET", path: "/api/admin/overview", operationId: "getAdminOverview", summary: "The dashboard's overview: jobs per status and type, the oldest waiting job, the last hour (admin)", tags, response: { 200: One(AdminOverview), ...errors(401, 403) } }))
    .get("/api/admin/jobs/:id", async ({ request, params }) => {
      admin(request);
      const state = await queue.getStatus(params.id);
      if (!state) throw notFound("job");
      return { data: state };
    }, docs.route({ method: "GET", path: "/api/admin/jobs/:id", operationId: "getAdminJob", summary: "One job in full: payload, error, times in epoch milliseconds (admin)", tags, response: { 200: One(AdminJob), ...errors(401, 403, 404) } }))
    .post("/api/admin/jobs/bulk", async ({ request, body }) => {
      admin(request);
      const b = validateBody<Static<typeof BulkAction>>(bulkCheck, body);
      const where: Condition[][] = [[{ field: "status", op: b.action === "retry" ? "eq" : "in", value: b.action === "retry" ? "dead" : ["enqueued", "failed"] }]];
      if (b.type) where.push([{ field: "type", op: "eq", value: b.type }]);
      if (b.status && b.action === "cancel") where.push([{ field: "status", op: "eq", value: b.status }]);
      const { rows } = await queue.listStatuses({ where, sort: [{ field: "id", direction: "asc" }], limit: BULK_LIMIT, offset: 0 });
      let affected = 0;
      for (const row of rows) {
        const result = b.action === "retry" ? await queue.retry(String(row.id)) : await queue.cancel(String(row.id));
        if (result === "retried" || result === "cancelled") affected++;
      }
      return { data: { action: b.action, affected, limit: BULK_LIMIT } };
    }, docs.route({ method: "POST", path: "/api/admin/jobs/bulk", operationId: "bulkJobs", summary: `Retry dead jobs, or cancel waiting ones, by type (at most ${BULK_LIMIT} per call; admin)`, tags, body: BulkAction, response: { 200: One(BulkResult), ...errors(...BODY_ERRORS, 401, 403) } }));
}
