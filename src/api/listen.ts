// Serving the app: what Elysia's listen() does on Bun, done once. listen() builds the fetch
// handler and Bun's route table and serves, then — a microtask later, for plugins that load
// asynchronously — builds both again, reloads the server and asks for a GC. The app has no such
// plugin, and that second pass was ~2 ms of a start, before the first request could be answered
// (87 routes; issue 20). The routes are Bun's own (its router, not Elysia's fetch lookup), each
// composed on its first request, as listen() does.
import type { AnyElysia } from "elysia";
import { createBunRouteHandler } from "elysia/adapter/bun/compose";
import { isProduction } from "elysia/error";
import { websocket } from "elysia/ws";

type Serve = Parameters<typeof Bun.serve>[0];
export type ListenOptions = { hostname: string; port: number; reusePort: boolean; maxRequestBodySize: number };

/** The parts of an Elysia app listen() reads, which its type keeps private. */
interface Internals {
  config: { websocket?: object; serve?: object };
  event: { request?: unknown[]; start?: { fn(app: unknown): unknown }[] };
  router: { history: Route[]; response: Record<string, unknown> };
  routeTree: Record<string, number>;
  promisedModules: { size: number };
  server: ReturnType<typeof Bun.serve> | null;
}
interface Route {
  method: string;
  path: string;
  handler: unknown;
}

const METHODS = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PATCH", "POST", "PUT"]);

/** Serves `app` as its listen() would, with one build of its handlers; returns the server. */
export function listenOnce(app: AnyElysia, options: ListenOptions): ReturnType<typeof Bun.serve> {
  const internals = app as unknown as Internals;
  // What this leaves out: plugins still loading, and static responses (routes whose handler is
  // a value, not a function), which listen() serves from Bun's table when no onRequest hook is
  // registered. The app has neither (its handlers are functions; it has no onRequest hook:
  // app.ts), so its every request goes through its hooks.
  const staticResponses = !internals.event.request?.length && Object.keys(internals.router.response).length > 0;
  if (internals.promisedModules.size > 0 || staticResponses) throw new Error("listenOnce: the app has asynchronous plugins or static responses; use app.listen()");
  const server = Bun.serve({
    development: !isProduction,
    idleTimeout: 30,
    ...internals.config.serve,
    ...options,
    routes: bunRoutes(app, internals),
    websocket: { ...internals.config.websocket, ...websocket },
    // What Bun's table does not route (no such path, a WebSocket upgrade) goes to Elysia's
    // general handler, composed when first asked for (1.5 ms of a start otherwise): the app's
    // fetch is a getter that composes it once, as its error handler composes on the first error.
    fetch: (request: Request, bunServer: unknown) => (app.fetch as (r: Request, s: unknown) => unknown)(request, bunServer),
  } as Serve);
  internals.server = server;
  for (const hook of internals.event.start ?? []) hook.fn(app);
  return server;
}

/** Bun's route table, as Elysia's mapRoutes builds it: every HTTP route but a WebSocket path's GET and wildcards. */
function bunRoutes(app: AnyElysia, internals: Internals): Record<string, Record<string, (request: Request) => unknown>> {
  const routes: Record<string, Record<string, (request: Request) => unknown>> = {};
  for (const route of internals.router.history) {
    const { method, path } = route;
    if (typeof route.handler !== "function" || !METHODS.has(method) || path.endsWith("*") || (method === "GET" && `WS_${path}` in internals.routeTree)) continue;
    if (path.includes("?")) throw new Error(`listenOnce: optional parameters (${path}) are not mapped`);
    let composed: ((request: Request) => unknown) | undefined;
    const handler = (request: Request) => (composed ??= createBunRouteHandler(app, route as never) as (request: Request) => unknown)(request);
    const key = path.length > 1 && path.endsWith("/") ? encodeURI(path.slice(0, -1)) : encodeURI(path);
    (routes[key] ??= {})[method] ??= handler;
  }
  return routes;
}
