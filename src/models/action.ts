// Custom actions (the seeds' server.Action): a method and a path under /api with a handler
// that gets the caller, the validated body, the transaction helper and the queue. Their routes
// are src/api/action-routes.ts.
import type { Static, TSchema } from "@sinclair/typebox";
import type { Access } from "./model.ts";
import type { Services } from "./services.ts";
import type { AuthUser } from "./users.ts";

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

export interface ActionResult<Data = unknown, Status extends number = number> {
  status?: Status;
  data?: Data;
  headers?: Record<string, string>;
}

export type ActionMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * `Body` is what the handler gets (the body schema's static type). The schemas type the
 * action's route for Eden and document it in /openapi.json.
 */
export interface Action<Body = unknown, BodySchema extends TSchema = TSchema, Data extends TSchema = TSchema, Path extends string = string, Method extends ActionMethod = ActionMethod, Status extends number = number> {
  method: Method;
  /** Under /api, e.g. "/orders" or "/orders/:id/refund". */
  path: Path;
  /** Names the operation in /openapi.json (operationId); default: method and path in camelCase. */
  name?: string;
  /** One line for /openapi.json. */
  summary?: string;
  /** Default: any signed-in user. */
  access?: Access;
  /** When set, the JSON body is validated against it (unknown fields refused). */
  body?: BodySchema;
  /** The answer's `data`, documented and typed: what the handler returns under `data`. */
  response: Data;
  /** The success status the handler answers (default 200). */
  status?: Status;
  /** Error statuses the handler throws beyond the usual (401, 403, and the body's 400/413/415/422): 404, 409… */
  errors?: readonly (404 | 409 | 422)[];
  handler(context: ActionContext<Body>): ActionResult<Static<Data>, Status> | Promise<ActionResult<Static<Data>, Status>>;
}

export function defineAction<const Path extends string, const Method extends ActionMethod, Data extends TSchema, BodySchema extends TSchema = TSchema, const Status extends number = 200>(
  action: Action<Static<BodySchema>, BodySchema, Data, Path, Method, Status>,
): Action<Static<BodySchema>, BodySchema, Data, Path, Method, Status> {
  return action;
}
