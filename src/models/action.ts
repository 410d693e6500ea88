// Custom actions (the seeds' server.Action): a method and a path under /api with a handler
// that gets the caller, the validated body, the transaction helper and the queue. Their routes
// are src/api/action-routes.ts.
import type { TSchema } from "@sinclair/typebox";
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
