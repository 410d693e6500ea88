// The Elysia app factory. Everything an app needs comes in through `options`; nothing is
// module-level, so two apps in one process (as in tests) never see each other.
import { Elysia } from "elysia";
import { systemClock, type Clock } from "../clock.ts";
import { migrate, type Migration } from "../db/migrations.ts";
import { idempotencyMigrations } from "../models/idempotency.ts";
import type { Db } from "../db/open.ts";
import { jsonLogger, type Logger } from "../log.ts";
import type { Action } from "../models/action.ts";
import { registerAction } from "./action-routes.ts";
import { TokenService } from "../models/tokens.ts";
import { DEFAULT_ADMIN_ROLE, usersModel } from "../models/users.ts";
import { registerAuthRoutes } from "./auth-routes.ts";
import { AppContext } from "./context.ts";
import { errorResponse } from "./error-envelope.ts";
import { methodNotAllowed } from "./http-errors.ts";
import { DEFAULT_BODY_LIMIT, guardDeclaredLength, parseJsonBody } from "./http-guards.ts";
import { registerJobStatusRoutes } from "./job-status-routes.ts";
import { registerScheduleRoutes } from "./schedule-routes.ts";
import { MAX_REALTIME_MESSAGE_BYTES, registerRealtimeRoute, type RealtimeOptions } from "./realtime-route.ts";
import { registerOpsRoutes, type OperationsOptions } from "./ops-routes.ts";
import { buildOpenApi, DOCS_PAGE } from "./openapi.ts";
import { htmlPage } from "./html-page.ts";
import { registerAdminRoutes } from "./admin-routes.ts";
import type { Activity } from "../ops/activity.ts";
import type { Scheduler } from "../cron/scheduler.ts";
import type { EventBus } from "../events/bus.ts";
import { emitModelEvents } from "../models/model-events.ts";
import { WEBHOOK_JOB, Webhooks, WebhookSubscription, type WebhookOptions } from "../models/webhooks.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { Model } from "../models/model.ts";
import { registerModelRoutes } from "./model-routes.ts";
import { ModelStore } from "../models/model-store.ts";
import { ScheduledFields } from "../models/scheduled-runner.ts";
import { Pipeline } from "../models/pipeline.ts";
import type { AppQueue, Services } from "../models/services.ts";

export interface AppOptions {
  db: Db;
  queue: AppQueue;
  models?: Model[];
  actions?: Action<never>[];
  pipeline?: Pipeline;
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
  logger?: Logger;
  clock?: Clock;
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

/** The migrations an app needs: its models', the built-in users' and webhook subscriptions', idempotency keys. */
export function appMigrations(models: readonly Model[]): Migration[] {
  return [...builtInModels(models).flatMap((m) => m.migrations), ...idempotencyMigrations];
}

function builtInModels(models: readonly Model[]): Model[] {
  return [usersModel, WebhookSubscription, ...models];
}

export function createApp(options: AppOptions): BackroomApp {
  const models = builtInModels(options.models ?? []);
  migrate(options.db.sqlite, options.db.path, appMigrations(options.models ?? []));
  const stores = new Map<string, ModelStore>();
  const services: Services = {
    db: options.db,
    queue: options.queue,
    pipeline: options.pipeline ?? new Pipeline(),
    tokens: new TokenService(options.db),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? jsonLogger(),
    bus: options.bus ?? null,
    model(nameOrTable) {
      const store = stores.get(nameOrTable);
      if (!store) throw new Error(`no model named ${nameOrTable}`);
      return store;
    },
  };
  // A change to any user (roles, deletion) must reach the next request at once.
  services.pipeline.register(() => services.tokens.forget(), { model: usersModel.name, position: "after" });
  for (const model of models) {
    const store = new ModelStore(model, () => services);
    stores.set(model.name, store);
    stores.set(model.table, store);
  }

  const webhooks = options.webhooks === false ? null : new Webhooks(() => services, options.webhooks ?? {});
  webhooks?.register(services.pipeline);
  // Subscriptions hold secrets: their own writes are never events.
  const emitting = models.filter((m) => m !== WebhookSubscription);
  emitModelEvents(services.pipeline, emitting, { bus: options.bus, onEvent: (event, write) => webhooks?.enqueueFor(event, write.traceparent) });

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
  const scheduledFields = new ScheduledFields({ services, models });
  return { app: routes, services, bodyLimit, jobHandlers: webhooks ? { [WEBHOOK_JOB]: webhooks.handler() } : {}, scheduledFields };
}
