// An action's route: its method and path under /api, the caller authorized against its access,
// the body validated against its schema, then its handler; the answer in our envelope.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { Elysia } from "elysia";
import type { Action } from "../models/action.ts";
import { validateBody } from "../models/validate.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";

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
