// An action's route: its method and path under /api, the caller authorized against its access,
// the body validated against its schema, then its handler; the answer in our envelope.
import type { Elysia } from "elysia";
import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { accessErrors, BODY_ERRORS, errors } from "./route-docs.ts";
import { One } from "./schemas.ts";
import type { Action, ActionMethod } from "../models/action.ts";
import { lazyCheck, validateBody } from "../models/validate.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";

/** Documented on every action: a repeat with the same key replays the first answer (src/models/idempotency.ts). */
const IDEMPOTENCY_KEY = Type.Object({ "idempotency-key": Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) });

type AnyAction = Action<never, TSchema, TSchema, string, ActionMethod, number>;
type Parts<A extends AnyAction> = { body: NonNullable<A["body"]>; data: A["response"]; path: A["path"]; method: A["method"]; status: [NonNullable<A["status"]>] extends [never] ? 200 : NonNullable<A["status"]> };
const operationName = (method: string, path: string) =>
  method.toLowerCase() + path.split(/[/_-]/).filter((p) => p && !p.startsWith(":")).map((p) => p[0]!.toUpperCase() + p.slice(1)).join("");

/**
 * An action's route as a function plugin (it adds the route to the app it is given: model-routes.ts);
 * its type carries the body and the answer (`data`) under its status. Documented now.
 */
export function actionRoute<A extends AnyAction>(action: A, ctx: AppContext) {
  type P = Parts<A>;
  const path = `/api${action.path}` as `/api${P["path"]}`;
  const check = action.body ? lazyCheck(action.body) : null;
  const status = (action.status ?? 200) as P["status"];
  const authErrors = accessErrors(action.access ?? "user");
  type Responses = { [S in P["status"]]: TObject<{ data: P["data"] }> } & ReturnType<typeof errors<400 | 401 | 403 | 404 | 409 | 413 | 415 | 422>>; // (422: see RouteTypes)
  ctx.docs.route({
    method: action.method,
    path,
    operationId: action.name ?? operationName(action.method, action.path),
    summary: action.summary ?? `${action.method} ${path}`,
    tags: ["actions"],
    ...(action.body ? { body: action.body as P["body"] } : {}),
    headers: IDEMPOTENCY_KEY,
    response: { [status]: One(action.response), ...errors(...(action.body ? BODY_ERRORS : []), ...authErrors, ...(action.errors ?? [])) },
  });
  // The route's types, from the same schemas (see route-docs.ts: types only).
  const doc = {} as { body: P["body"]; response: Responses };
  const handle = async ({ request, body, params, set }: { request: Request; body: unknown; params: Record<string, string>; set: { status?: number | string; headers: Record<string, string | number> } }) => {
    const auth = ctx.auth(request);
    authorize(action.access ?? "user", auth, ctx.adminRole);
    const result = await action.handler({
      auth,
      body: (check ? validateBody(check, body) : body) as never,
      params,
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
    return { data: result.data ?? null } as never;
  };
  // route() upper-cases the method; the lower-case one is what Eden's client calls (`.post(…)`).
  return (app: Elysia) => app.route(action.method.toLowerCase() as Lowercase<P["method"]>, path, handle as () => never, doc);
}
