// The dashboard's API (admin role): an overview read through partial indexes and in-memory
// activity (never a scan of finished jobs), one job in full, and bulk retry/cancel by filter
// (at most 500 jobs per call). The page itself is GET /admin (admin-page.ts).
import { Type as t } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Elysia } from "elysia";
import type { Condition } from "../db/list-query.ts";
import type { Activity } from "../ops/activity.ts";
import { ADMIN_PAGE } from "./admin-page.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { htmlPage } from "./html-page.ts";
import { idOf } from "./model-routes.ts";
import { isoOrNull } from "../models/serialize.ts";
import { validateBody } from "../models/validate.ts";

const BULK_LIMIT = 500;
const bulkCheck = TypeCompiler.Compile(
  t.Object({ action: t.Union([t.Literal("retry"), t.Literal("cancel")]), status: t.Optional(t.String()), type: t.Optional(t.String()) }, { additionalProperties: false }),
);

export function registerAdminRoutes(app: Elysia, ctx: AppContext, activity?: Activity): string[] {
  const queue = ctx.services.queue;
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);

  app.get("/admin", htmlPage(ADMIN_PAGE, { "cache-control": "no-store" }));

  app.get("/api/admin/overview", async ({ request }) => {
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
  });

  app.get("/api/admin/jobs/:id", async ({ request, params }) => {
    admin(request);
    const state = await queue.getStatus(idOf(params));
    if (!state) throw notFound("job");
    return { data: state };
  });

  app.post("/api/admin/jobs/bulk", async ({ request, body }) => {
    admin(request);
    const b = validateBody<{ action: "retry" | "cancel"; status?: string; type?: string }>(bulkCheck, body);
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
  });

  return ["/admin", "/api/admin/overview", "/api/admin/jobs/:id", "/api/admin/jobs/bulk"];
}
