// Custom actions (the seeds' server.Action): a method and a path under /api with a handler
// that gets the caller, the validated body, the transaction helper and the queue.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Elysia } from "elysia";
import { authorize, type AuthUser } from "./auth.ts";
import type { AppContext } from "./context.ts";
import type { Access } from "./model.ts";
import type { Services } from "./services.ts";
import { validateBody } from "./validate.ts";

export interface ActionContext<Body> {
  auth: AuthUser | null;
  body: Body;
  params: Record<string, string>;
  query: URLSearchParams;
  request: Request;
  requestId: string;
  /** The request's W3C traceparent (null when it sent none): give it to the jobs it enqueues. */
  traceparent: string | null;
  services: Services;
  /** Runs a synchronous function as one atomic unit of the group commit; resolves once it is durable. */
  transaction<T>(fn: () => T): Promise<T>;
}

export interface ActionResult {
  status?: number;
  data?: unknown;
  headers?: Record<string, string>;
}

export interface Action<Body = unknown> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Under /api, e.g. "/orders" or "/orders/:id/refund". */
  path: string;
  /** Default: any signed-in user. */
  access?: Access;
  /** When set, the JSON body is validated against it (unknown fields refused). */
  body?: TSchema;
  handler(context: ActionContext<Body>): ActionResult | Promise<ActionResult>;
}

export function defineAction<Body = unknown>(action: Action<Body>): Action<Body> {
  return action;
}

export function registerAction(app: Elysia, action: Action<never>, ctx: AppContext): string {
  const path = `/api${action.path}`;
  const check = action.body ? TypeCompiler.Compile(action.body) : null;
  app.route(action.method, path, async ({ request, body, params, set }) => {
    const auth = ctx.auth(request);
    authorize(action.access ?? "user", auth, ctx.adminRole);
    const result = await action.handler({
      auth,
      body: (check ? validateBody(check, body) : body) as never,
      params: params as Record<string, string>,
      query: new URL(request.url).searchParams,
      request,
      requestId: ctx.requestId(request),
      traceparent: ctx.traceparent(request),
      services: ctx.services,
      transaction: (fn) => ctx.services.db.write(fn),
    });
    set.status = result.status ?? 200;
    Object.assign(set.headers, result.headers ?? {});
    if (result.status === 204) return new Response(null, { status: 204 });
    return { data: result.data ?? null };
  });
  return path;
}
