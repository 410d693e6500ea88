// Schedules over REST, for admins: list, create, change, pause/resume, run now, delete.
// GET /api/schedules, POST /api/schedules, GET|PATCH|DELETE /api/schedules/:name,
// POST /api/schedules/:name/pause|resume|run. An invalid expression or timezone is a 400.
import type { Static } from "@sinclair/typebox";
import type { Elysia } from "elysia";
import { BODY_ERRORS, errors, NoContent } from "./route-docs.ts";
import { JobAccepted, Many, One, Schedule, ScheduleCreate, ScheduleUpdate } from "./schemas.ts";
import type { ScheduleState } from "../cron/store.ts";
import type { ScheduleDefinition, Scheduler } from "../cron/scheduler.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { isoOrNull } from "../models/serialize.ts";
import { lazyCheck, validateBody } from "../models/validate.ts";

const createCheck = lazyCheck(ScheduleCreate);
const updateCheck = lazyCheck(ScheduleUpdate);

type Body = { name?: string; schedule?: string; type?: string; payload?: unknown; timezone?: string | null; catch_up?: "skip" | "all" | "none" };

export function scheduleToJson(s: ScheduleState): Static<typeof Schedule> {
  return {
    name: s.name, schedule: s.schedule, timezone: s.timezone, type: s.type, payload: s.payload, catch_up: s.catchUp,
    paused: s.paused, declared: s.declared, next_fire_at: isoOrNull(s.nextFireAt), last_fired_at: isoOrNull(s.lastFiredAt),
    created_at: isoOrNull(s.createdAt), updated_at: isoOrNull(s.updatedAt),
  };
}

export function scheduleRoutes(ctx: AppContext, scheduler: Scheduler) {
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);
  const one = (s: ScheduleState) => ({ data: scheduleToJson(s) });
  const docs = ctx.docs;
  const tags = ["schedules"];
  const item = "/api/schedules/:name";
  const verb = (name: "pause" | "resume", summary: string) =>
    docs.route({ method: "POST", path: `${item}/${name}`, operationId: `${name}Schedule`, summary, tags, response: { 200: One(Schedule), ...errors(401, 403, 404) } });

  return (app: Elysia) => app
    .get("/api/schedules", ({ request }) => {
      admin(request);
      const all = scheduler.list().map(scheduleToJson);
      return { data: all, meta: { total: all.length, page: 1, limit: all.length, pages: 1 } };
    }, docs.route({ method: "GET", path: "/api/schedules", operationId: "listSchedules", summary: "List schedules (admin)", tags, response: { 200: Many(Schedule), ...errors(401, 403) } }))
    .post("/api/schedules", ({ request, body, status }) => {
      admin(request);
      const b = validateBody<Body>(createCheck, body);
      return status(201, one(scheduler.create({ name: b.name!, schedule: b.schedule!, type: b.type!, payload: b.payload, timezone: b.timezone, catchUp: b.catch_up })));
    }, docs.route({ method: "POST", path: "/api/schedules", operationId: "createSchedule", summary: "Create a schedule (admin); a bad expression or timezone is a 400", tags, body: ScheduleCreate, response: { 201: One(Schedule), ...errors(...BODY_ERRORS, 401, 403, 409) } }))
    .get(item, ({ request, params }) => {
      admin(request);
      const found = scheduler.find(params.name);
      if (!found) throw notFound("schedule");
      return one(found);
    }, docs.route({ method: "GET", path: item, operationId: "getSchedule", summary: "Get a schedule (admin)", tags, response: { 200: One(Schedule), ...errors(401, 403, 404) } }))
    .patch(item, ({ request, params, body }) => {
      admin(request);
      const b = validateBody<Body>(updateCheck, body);
      const changes: Partial<ScheduleDefinition> = {};
      if ("schedule" in b) changes.schedule = b.schedule;
      if ("type" in b) changes.type = b.type;
      if ("payload" in b) changes.payload = b.payload;
      if ("timezone" in b) changes.timezone = b.timezone;
      if ("catch_up" in b) changes.catchUp = b.catch_up;
      return one(scheduler.update(params.name, changes));
    }, docs.route({ method: "PATCH", path: item, operationId: "updateSchedule", summary: "Change a schedule (admin)", tags, body: ScheduleUpdate, response: { 200: One(Schedule), ...errors(...BODY_ERRORS, 401, 403, 404) } }))
    .delete(item, ({ request, params }) => {
      admin(request);
      scheduler.remove(params.name);
      return new Response(null, { status: 204 });
    }, docs.route({ method: "DELETE", path: item, operationId: "deleteSchedule", summary: "Delete a schedule (admin)", tags, response: { 204: NoContent, ...errors(401, 403, 404) } }))
    .post(`${item}/pause`, ({ request, params }) => (admin(request), one(scheduler.pause(params.name))), verb("pause", "Pause a schedule (admin)"))
    .post(`${item}/resume`, ({ request, params }) => (admin(request), one(scheduler.resume(params.name))), verb("resume", "Resume a schedule (admin)"))
    .post(`${item}/run`, ({ request, params, status }) => {
      admin(request);
      return status(202, { data: { job_id: scheduler.runNow(params.name) } });
    }, docs.route({ method: "POST", path: `${item}/run`, operationId: "runSchedule", summary: "Run a schedule now (admin): enqueues its job", tags, response: { 202: One(JobAccepted), ...errors(401, 403, 404) } }));
}
