// The Elysia app factory: the model layer (src/models/model-layer.ts) served over HTTP.
// Everything an app needs comes in through `options`; nothing is module-level, so two apps in
// one process (as in tests) never see each other.
import { Elysia } from "elysia";
import type { Scheduler } from "../cron/scheduler.ts";
import type { EventBus } from "../events/bus.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { Action } from "../models/action.ts";
import { createModelLayer, type ModelLayerOptions } from "../models/model-layer.ts";
import type { ScheduledFields } from "../models/scheduled-runner.ts";
import type { Services } from "../models/services.ts";
import { DEFAULT_ADMIN_ROLE } from "../models/users.ts";
import type { WebhookOptions } from "../models/webhooks.ts";
import type { Activity } from "../ops/activity.ts";
import { registerAction } from "./action-routes.ts";
import { registerAdminRoutes } from "./admin-routes.ts";
import { registerAuthRoutes } from "./auth-routes.ts";
import { AppContext } from "./context.ts";
import { errorResponse } from "./error-envelope.ts";
import { htmlPage } from "./html-page.ts";
import { methodNotAllowed } from "./http-errors.ts";
import { DEFAULT_BODY_LIMIT, guardDeclaredLength, parseJsonBody } from "./http-guards.ts";
import { registerJobStatusRoutes } from "./job-status-routes.ts";
import { registerModelRoutes } from "./model-routes.ts";
import { buildOpenApi, DOCS_PAGE } from "./openapi.ts";
import { registerOpsRoutes, type OperationsOptions } from "./ops-routes.ts";
import { MAX_REALTIME_MESSAGE_BYTES, registerRealtimeRoute, type RealtimeOptions } from "./realtime-route.ts";
import { registerScheduleRoutes } from "./schedule-routes.ts";

export interface AppOptions extends ModelLayerOptions {
  actions?: Action<never>[];
  /** Largest accepted request body in bytes. Default 1 MiB. */
  bodyLimit?: number;
  /** The role that sees and may do everything (the seeds' AdminRole). Default "admin". */
  adminRole?: string;
  /** Whether callers without a token may read job statuses. Default true (the seeds' default). */
  anonymousJobStatuses?: boolean;
  /** When given, admins manage its schedules under /api/schedules. */
  scheduler?: Scheduler;
  /** Model-write events go here (after commit), and realtime clients subscribe here. */
  bus?: EventBus;
  /** Limits of the realtime WebSocket route (slow clients, the authentication deadline). */
  realtime?: RealtimeOptions;
  /** Webhook subscriptions (admin REST resource plus these in code); false: no webhooks. */
  webhooks?: WebhookOptions | false;
  /** /healthz, /readyz (with these checks) and /metrics (with these metrics). */
  operations?: OperationsOptions;
  /** The last hour of job outcomes, for the dashboard at /admin (give the worker its sink). */
  activity?: Activity;
  /** For the OpenAPI document served at /openapi.json (browsable at /docs). */
  title?: string;
  version?: string;
}

export interface BackroomApp {
  app: Elysia;
  services: Services;
  bodyLimit: number;
  /** Job handlers the app's features need (webhook delivery): give them to the worker. */
  jobHandlers: Record<string, Handler>;
  /** Applies the models' scheduled transitions: start it beside the worker, stop it before closing the db. */
  scheduledFields: ScheduledFields;
}

export function createApp(options: AppOptions): BackroomApp {
  const { services, models, jobHandlers, scheduledFields } = createModelLayer(options);

  const ctx = new AppContext(services, options.adminRole ?? DEFAULT_ADMIN_ROLE);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  // Request timing for /metrics; each request is counted once (errors may not reach onAfterResponse).
  const startedAt = new WeakMap<Request, number>();
  const observe = (request: Request, route: string, status: number) => {
    const started = startedAt.get(request);
    if (started === undefined) return;
    startedAt.delete(request);
    const seconds = (performance.now() - started) / 1000;
    options.operations?.metrics?.observeRequest(request.method, route || "unmatched", status, seconds);
    const level = status >= 500 ? "error" : "debug";
    if (services.logger.enabled?.(level) === false) return;
    services.logger.log(level, "request", { request_id: ctx.requestId(request), trace_id: ctx.traceparent(request), method: request.method, route: route || "unmatched", status, ms: +(seconds * 1000).toFixed(2) });
  };
  // Bun refuses (closes 1009) a WebSocket message past this before it is buffered whole, so an
  // unauthenticated client cannot make the server read and JSON-parse megabytes (Elysia parses
  // every message before our handler sees it).
  const app = new Elysia({ websocket: { maxPayloadLength: MAX_REALTIME_MESSAGE_BYTES } })
    .onRequest(({ request, set }) => {
      startedAt.set(request, performance.now());
      set.headers["x-request-id"] = ctx.requestId(request);
      guardDeclaredLength(request, bodyLimit);
    })
    .onParse(({ request }) => parseJsonBody(request, bodyLimit))
    // No answer leaves before everything it could have seen is durable: a read served while a
    // group-commit batch is open waits (at most one batch) for that commit.
    .onAfterHandle(() => {
      const pending = services.db.pendingFlush();
      if (pending) return pending.then(() => undefined);
    })
    .onAfterResponse(({ request, route, set }) => observe(request, route, Number(set.status ?? 200)))
    .onError(({ code, error, request, set, route }) => {
      const { status, body, headers } = errorResponse(code, error, request, ctx.requestId(request), services.logger);
      observe(request, code === "NOT_FOUND" ? "" : (route as string | undefined) ?? "", status);
      set.status = status;
      Object.assign(set.headers, headers);
      set.headers["x-request-id"] = ctx.requestId(request);
      return body;
    });

  // Routes are registered from run-time lists (models, actions), so the route modules see a
  // plain Elysia; the lifecycle hooks above still apply to them.
  const routes = app as unknown as Elysia;
  // Specific routes first; then every known path answers other methods with 405.
  const paths = [
    ...(options.actions ?? []).map((action) => registerAction(routes, action, ctx)),
    ...registerJobStatusRoutes(routes, ctx, { anonymousRead: options.anonymousJobStatuses ?? true }),
    ...registerAuthRoutes(routes, ctx),
    ...(options.scheduler ? registerScheduleRoutes(routes, ctx, options.scheduler) : []),
    ...models.flatMap((model) => registerModelRoutes(routes, services.model(model.name), ctx)),
  ];
  if (options.bus) registerRealtimeRoute(routes, ctx, options.bus, options.realtime);
  if (options.operations) paths.push(...registerOpsRoutes(routes, options.operations));
  paths.push(...registerAdminRoutes(routes, ctx, options.activity));
  const openapi = buildOpenApi({ title: options.title ?? "Backroom", version: options.version ?? "0.0.0", models, actions: options.actions ?? [], schedules: Boolean(options.scheduler), realtime: Boolean(options.bus) });
  routes.get("/openapi.json", () => openapi);
  routes.get("/docs", htmlPage(DOCS_PAGE));
  for (const path of new Set(paths)) {
    routes.all(path, ({ request }) => {
      throw methodNotAllowed(request.method, new URL(request.url).pathname);
    });
  }
  return { app: routes, services, bodyLimit, jobHandlers, scheduledFields };
}
