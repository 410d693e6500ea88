// Schedules over REST, for admins: list, create, change, pause/resume, run now, delete.
// GET /api/schedules, POST /api/schedules, GET|PATCH|DELETE /api/schedules/:name,
// POST /api/schedules/:name/pause|resume|run. An invalid expression or timezone is a 400.
import { Type as t } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Elysia } from "elysia";
import type { ScheduleState } from "../cron/store.ts";
import type { ScheduleDefinition, Scheduler } from "../cron/scheduler.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { isoOrNull } from "../models/serialize.ts";
import { validateBody } from "../models/validate.ts";

const fields = {
  schedule: t.String({ minLength: 1, maxLength: 200 }),
  type: t.String({ minLength: 1, maxLength: 200 }),
  payload: t.Optional(t.Unknown()),
  timezone: t.Optional(t.Union([t.String({ minLength: 1, maxLength: 100 }), t.Null()])),
  catch_up: t.Optional(t.Union([t.Literal("skip"), t.Literal("all"), t.Literal("none")])),
};
const createCheck = TypeCompiler.Compile(t.Object({ name: t.String({ minLength: 1, maxLength: 100 }), ...fields }, { additionalProperties: false }));
const updateCheck = TypeCompiler.Compile(t.Partial(t.Object(fields), { additionalProperties: false, minProperties: 1 }));

type Body = { name?: string; schedule?: string; type?: string; payload?: unknown; timezone?: string | null; catch_up?: "skip" | "all" | "none" };

export function scheduleToJson(s: ScheduleState) {
  return {
    name: s.name, schedule: s.schedule, timezone: s.timezone, type: s.type, payload: s.payload, catch_up: s.catchUp,
    paused: s.paused, declared: s.declared, next_fire_at: isoOrNull(s.nextFireAt), last_fired_at: isoOrNull(s.lastFiredAt),
    created_at: isoOrNull(s.createdAt), updated_at: isoOrNull(s.updatedAt),
  };
}

export function registerScheduleRoutes(app: Elysia, ctx: AppContext, scheduler: Scheduler): string[] {
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);
  const name = (params: unknown) => (params as { name: string }).name;
  const one = (s: ScheduleState) => ({ data: scheduleToJson(s) });

  app.get("/api/schedules", ({ request }) => {
    admin(request);
    const all = scheduler.list().map(scheduleToJson);
    return { data: all, meta: { total: all.length, page: 1, limit: all.length, pages: 1 } };
  });
  app.post("/api/schedules", ({ request, body, set }) => {
    admin(request);
    const b = validateBody<Body>(createCheck, body);
    set.status = 201;
    return one(scheduler.create({ name: b.name!, schedule: b.schedule!, type: b.type!, payload: b.payload, timezone: b.timezone, catchUp: b.catch_up }));
  });
  app.get("/api/schedules/:name", ({ request, params }) => {
    admin(request);
    const found = scheduler.find(name(params));
    if (!found) throw notFound("schedule");
    return one(found);
  });
  app.patch("/api/schedules/:name", ({ request, params, body }) => {
    admin(request);
    const b = validateBody<Body>(updateCheck, body);
    const changes: Partial<ScheduleDefinition> = {};
    if ("schedule" in b) changes.schedule = b.schedule;
    if ("type" in b) changes.type = b.type;
    if ("payload" in b) changes.payload = b.payload;
    if ("timezone" in b) changes.timezone = b.timezone;
    if ("catch_up" in b) changes.catchUp = b.catch_up;
    return one(scheduler.update(name(params), changes));
  });
  app.delete("/api/schedules/:name", ({ request, params }) => {
    admin(request);
    scheduler.remove(name(params));
    return new Response(null, { status: 204 });
  });
  app.post("/api/schedules/:name/pause", ({ request, params }) => (admin(request), one(scheduler.pause(name(params)))));
  app.post("/api/schedules/:name/resume", ({ request, params }) => (admin(request), one(scheduler.resume(name(params)))));
  app.post("/api/schedules/:name/run", ({ request, params, set }) => {
    admin(request);
    const jobId = scheduler.runNow(name(params));
    set.status = 202;
    return { data: { job_id: jobId } };
  });
  return ["/api/schedules", "/api/schedules/:name", "/api/schedules/:name/pause", "/api/schedules/:name/resume", "/api/schedules/:name/run"];
}
