// The Elysia app factory: the model layer (src/models/model-layer.ts) served over HTTP.
// Everything an app needs comes in through `options`; nothing is module-level, so two apps in
// one process (as in tests) never see each other.
import { Elysia, ElysiaStatus, NotFoundError } from "elysia";
import type { Scheduler } from "../cron/scheduler.ts";
import type { EventBus } from "../events/bus.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { TSchema } from "@sinclair/typebox";
import type { Action, ActionMethod } from "../models/action.ts";
import type { Model, Operation } from "../models/model.ts";
import { usersModel } from "../models/users.ts";
import { WebhookSubscription } from "../models/webhooks.ts";
import { createModelLayer, type ModelLayerOptions } from "../models/model-layer.ts";
import type { ScheduledFields } from "../models/scheduled-runner.ts";
import type { Services } from "../models/services.ts";
import { DEFAULT_ADMIN_ROLE } from "../models/users.ts";
import { CodedError } from "../errors.ts";
import type { WebhookOptions } from "../models/webhooks.ts";
import type { Activity } from "../ops/activity.ts";
import { actionRoute } from "./action-routes.ts";
import { adminRoutes } from "./admin-routes.ts";
import { authRoutes } from "./auth-routes.ts";
import { AppContext } from "./context.ts";
import { errorResponse } from "./error-envelope.ts";
import { htmlPage } from "./html-page.ts";
import { invalidJson, jobStatusReadonly, methodNotAllowed } from "./http-errors.ts";
import { knownPaths } from "./known-paths.ts";
import { DEFAULT_BODY_LIMIT, guardDeclaredLength, parseJsonBody } from "./http-guards.ts";
import { jobStatusRouteParts, jobStatusRoutes, READONLY_PATHS } from "./job-status-routes.ts";
import { modelRouteParts, modelRoutes } from "./model-routes.ts";
import { syncRoute } from "./sync-route.ts";
import { buildOpenApi, componentNames, DOCS_PAGE } from "./openapi.ts";
import { opsRoutes, type OperationsOptions } from "./ops-routes.ts";
import type { RouteDoc } from "./route-docs.ts";
import { MAX_REALTIME_MESSAGE_BYTES, registerRealtimeRoute, type RealtimeOptions } from "./realtime-route.ts";
import { scheduleRoutes } from "./schedule-routes.ts";
import { queueRoutes } from "./queue-routes.ts";
import type { QueueDefinitions } from "../jobs/named-queues.ts";

export interface AppOptions<Models extends readonly AnyModel[] = readonly AnyModel[], Actions extends readonly AnyAction[] = readonly AnyAction[]> extends Omit<ModelLayerOptions, "models"> {
  /** The app's models: each gets its CRUD routes (typed: the app's type carries them). */
  models?: Models;
  actions?: Actions;
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
  /** Named queues as the app declares them (limits, rate limits): shown by GET /api/queues. */
  queues?: QueueDefinitions;
  /** For the OpenAPI document served at /openapi.json (browsable at /docs). */
  title?: string;
  version?: string;
}

export type AnyModel = Model<string, unknown, unknown, Operation>;
export type AnyAction = Action<never, TSchema, TSchema, string, ActionMethod, number>;
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type RoutesOf<P> = P extends { "~Routes": infer R } ? R : never;
type ModelRoutes<M> = M extends AnyModel ? RoutesOf<ReturnType<ReturnType<typeof modelRoutes<M>>>> : never;
type ActionRoutes<A> = A extends AnyAction ? RoutesOf<ReturnType<ReturnType<typeof actionRoute<A>>>> : never;
type Fixed = ReturnType<ReturnType<typeof fixedRoutes>>;
/** The app's Elysia type: every route, typed (Eden's `treaty<typeof app>`). */
export type AppOf<Models extends readonly AnyModel[], Actions extends readonly AnyAction[]> = Elysia<
  "",
  Fixed["~Singleton"],
  Fixed["~Definitions"],
  Fixed["~Metadata"],
  Fixed["~Routes"] &
    UnionToIntersection<ModelRoutes<Models[number] | typeof usersModel | typeof WebhookSubscription>> &
    UnionToIntersection<ActionRoutes<Actions[number]> | {}>,
  Fixed["~Ephemeral"],
  Fixed["~Volatile"]
>;

export interface BackroomApp<App = Elysia> {
  app: App;
  services: Services;
  bodyLimit: number;
  /** Job handlers the app's features need (webhook delivery): give them to the worker. */
  jobHandlers: Record<string, Handler>;
  /** Applies the models' scheduled transitions: start it beside the worker, stop it before closing the db. */
  scheduledFields: ScheduledFields;
  /** Each route's declaration (operation, schemas by status): what /openapi.json is rendered from. */
  routes: readonly RouteDoc[];
}

/** A function plugin: what it adds to an app, it adds to that app itself (Elysia's use() calls it with the app). */
type Plugin = (app: Elysia) => unknown;

/** The routes every app has, typed: a function plugin (they are documented as it adds them). */
function fixedRoutes(ctx: AppContext, options: AppOptions, jobStatuses = jobStatusRoutes(ctx, { anonymousRead: options.anonymousJobStatuses ?? true })) {
  return (app: Elysia) => app
    .use(jobStatuses)
    .use(authRoutes(ctx))
    .use(options.scheduler ? scheduleRoutes(ctx, options.scheduler) : ((app: Elysia) => app) as unknown as ReturnType<typeof scheduleRoutes>)
    .use(opsRoutes(ctx.docs, options.operations ?? {}))
    .use(adminRoutes(ctx, options.activity))
    .use(queueRoutes(ctx, options.queues ?? {}));
}

/** What Elysia answers from besides the handler's value (its context's `set`). */
interface ResponseSet {
  status?: number | string;
  headers: Record<string, string>;
  cookie?: unknown;
}

/**
 * The answer to a handler's plain JSON value (an object or array) with the request's id as its
 * only header, made here: Elysia makes it through its merging path once `set` holds a header
 * (`Response.json(value, set)` after checks per request). Undefined for anything else (another
 * header, a cookie, a status by name, a Response, a status() value): Elysia answers those.
 */
function plainJsonWithId(value: unknown, set: ResponseSet, id: string): Response | undefined {
  if (value === null || typeof value !== "object" || (value.constructor !== Object && !Array.isArray(value))) return undefined;
  if (set.cookie !== undefined || typeof set.status !== "number") return undefined;
  for (const _ in set.headers) return undefined;
  return Response.json(value, { status: set.status, headers: { "x-request-id": id } });
}

export function createApp<const Models extends readonly AnyModel[] = [], const Actions extends readonly AnyAction[] = []>(options: AppOptions<Models, Actions>): BackroomApp<AppOf<Models, Actions>> {
  const { services, models, jobHandlers, scheduledFields } = createModelLayer({ ...options, models: [...(options.models ?? [])] as Model[] });

  const ctx = new AppContext(services, options.adminRole ?? DEFAULT_ADMIN_ROLE);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  // Request timing for /metrics; each request is counted once: when its handler has answered
  // (and what it answered is durable), or in onError. Not in onAfterResponse: Elysia runs that
  // hook from a setImmediate with an async closure per request, which cost a third of a short read.
  const observe = (request: Request, route: string, status: number) => {
    const started = ctx.takeStart(request);
    if (started === null) return;
    const seconds = (performance.now() - started) / 1000;
    options.operations?.metrics?.observeRequest(request.method, route || "unmatched", status, seconds);
    const level = status >= 500 ? "error" : "debug";
    if (services.logger.enabled?.(level) === false) return;
    services.logger.log(level, "request", { request_id: ctx.requestId(request), trace_id: ctx.traceparent(request), method: request.method, route: route || "unmatched", status, ms: +(seconds * 1000).toFixed(2) });
  };
  // No answer leaves before everything it could have seen is durable: a read served while a
  // group-commit batch is open waits (at most one batch) for that commit, and fails with it.
  const afterHandle = ({ request, route, set, responseValue }: { request: Request; route: string; set: ResponseSet; responseValue: unknown }) => {
    const status = responseValue instanceof Response ? responseValue.status : responseValue instanceof ElysiaStatus ? Number(responseValue.code) : Number(set.status ?? 200);
    const pending = services.db.pendingFlush();
    if (!pending) {
      observe(request, route, status);
      const answer = plainJsonWithId(responseValue, set, ctx.requestId(request));
      if (answer) return answer;
    }
    set.headers["x-request-id"] = ctx.requestId(request);
    if (!pending) return;
    // Elysia answers what this resolves to: the handler's own answer once durable, else the error's.
    return pending.then(() => (observe(request, route, status), responseValue), (error: unknown) => {
      const failed = errorResponse(undefined, error, request, ctx.requestId(request), services.logger);
      observe(request, route, failed.status);
      return new Response(JSON.stringify(failed.body), { status: failed.status, headers: { ...failed.headers, "content-type": "application/json", "x-request-id": ctx.requestId(request) } });
    });
  };
  let knownPath: (pathname: string) => string | null = () => null; // set once every route is declared
  const notAllowed = async (request: Request, path: string) => {
    try {
      if (request.body) await parseJsonBody(request, bodyLimit);
    } catch (error) {
      return error instanceof CodedError ? error : invalidJson();
    }
    const pathname = new URL(request.url).pathname;
    return READONLY_PATHS.includes(path) ? jobStatusReadonly(request.method, pathname) : methodNotAllowed(request.method, pathname);
  };
  // Bun refuses (closes 1009) a WebSocket message past this before it is buffered whole, so an
  // unauthenticated client cannot make the server read and JSON-parse megabytes (Elysia parses
  // every message before our handler sees it).
  //
  // No onRequest hook: with one, Elysia builds every request's URL string and query index
  // before routing (a tenth of a status read's instructions). A request's clock starts, and
  // its declared length is checked, in the first of our hooks to run for it: the body parser
  // (routes with a body), transform (every route, before validation), or onError (no route).
  // Its x-request-id is set where its answer is made: afterHandle, onError, the WebSocket upgrade.
  const arrived = (request: Request) => {
    ctx.requestId(request); // starts the request's clock
    guardDeclaredLength(request, bodyLimit);
  };
  const app = new Elysia({ websocket: { maxPayloadLength: MAX_REALTIME_MESSAGE_BYTES } })
    .onTransform(syncRoute(({ request }: { request: Request }) => arrived(request)))
    // Declared sync and answering (Elysia would guess from its source: sync-route.ts), so a
    // route stays sync and what this returns is the answer. Its source still tells Elysia
    // which parts of the context it reads (the route).
    .on("afterHandle", [{ fn: syncRoute(afterHandle), hasReturn: true }] as never)
    .onError(async ({ code, error, request, set, route }) => {
      // No route: no hook of ours ran before this one, so the declared length is checked here.
      if (error instanceof NotFoundError) {
        try {
          guardDeclaredLength(request, bodyLimit);
        } catch (tooLarge) {
          error = tooLarge as CodedError;
        }
      }
      // No route (Elysia's NotFoundError, not a handler's 404) on a known path: another method,
      // 405, as a route of that path would have answered (after our body parser, which runs first).
      const known = error instanceof NotFoundError ? knownPath(new URL(request.url).pathname) : null;
      if (known) error = await notAllowed(request, known);
      const { status, body, headers } = errorResponse(known ? undefined : code, error, request, ctx.requestId(request), services.logger);
      observe(request, known ?? (code === "NOT_FOUND" ? "" : (route as string | undefined) ?? ""), status);
      set.status = status;
      Object.assign(set.headers, headers);
      set.headers["x-request-id"] = ctx.requestId(request);
      return body;
    });

  // Specific routes first (actions before the models' CRUD, so POST /api/orders is the
  // action's); every known path answers other methods with 405 (onError). Reads are added
  // before the body parser is hooked, which Elysia applies to the routes added after it: a
  // route with a parse hook is composed as an async function, whose promise per request cost
  // a read 40% of its rate over HTTP here. Each plugin is a function that adds its routes to
  // the app (each route is added once) and declares them to ctx.docs, from which /openapi.json
  // is rendered: actions, job statuses and models, whose parts are added apart, are listed
  // where they are made here (ctx.docs.section()); the fixed routes as they are added, after.
  const actions = (options.actions ?? []).map((action) => [action.method, actionRoute(action, ctx) as Plugin] as const);
  const statuses = jobStatusRouteParts(ctx, { anonymousRead: options.anonymousJobStatuses ?? true });
  const modelParts = models.map((model) => modelRouteParts(model, services.model(model.name), ctx));
  const reads: Plugin[] = [...actions.filter(([method]) => method === "GET").map(([, plugin]) => plugin), statuses.reads, ...modelParts.map((part) => part.reads as Plugin)];
  const writes: Plugin[] = [
    ...actions.filter(([method]) => method !== "GET").map(([, plugin]) => plugin),
    fixedRoutes(ctx, options as AppOptions, statuses.writes as unknown as ReturnType<typeof jobStatusRoutes>),
    ...modelParts.map((part) => part.writes as Plugin),
  ];
  const plain = app as unknown as Elysia;
  for (const plugin of reads) plugin(plain);
  app.onParse(({ request }) => (arrived(request), parseJsonBody(request, bodyLimit)));
  for (const plugin of writes) plugin(plain);
  if (options.bus) registerRealtimeRoute(plain, ctx, options.bus, options.realtime);
  const routes = ctx.docs.routes;
  // The document is rendered when first asked for (10 ms of a start otherwise); its component
  // names are checked now, so two schemas sharing a title still stop the app from starting.
  componentNames(routes);
  let openapi: ReturnType<typeof buildOpenApi> | null = null;
  app.get("/openapi.json", () => (openapi ??= buildOpenApi({ title: options.title ?? "Backroom", version: options.version ?? "0.0.0", routes, realtime: Boolean(options.bus) })));
  app.get("/docs", htmlPage(DOCS_PAGE));
  knownPath = knownPaths([...routes.map((r) => r.path), "/admin"]);
  // The routes were added from run-time lists; their types are the plugins' (AppOf).
  return { app: app as unknown as AppOf<Models, Actions>, services, bodyLimit, jobHandlers, scheduledFields, routes };
}
