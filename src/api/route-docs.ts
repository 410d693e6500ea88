// Each route is declared once: its operation (id, summary, tags), its body, query and answers
// as TypeBox schemas. `RouteDocs.route()` records the declaration for /openapi.json and returns
// it as the route's hook type, so Elysia (and through it Eden's treaty) types the route from the
// very same schemas. Elysia is handed the schemas as types only: at run time the handlers
// validate bodies themselves (validateBody: strict, no coercion, a bounded error list,
// EMPTY_BODY), and the query with parseListParams, as they always have.
import { Type as t, type TObject, type TSchema } from "@sinclair/typebox";
import type { Access } from "../models/model.ts";
import { ErrorEnvelope } from "./schemas.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 500 | 503;

/** A 204's (absent) body. */
export const NoContent = t.Null({ description: "no body" });

export interface RouteDoc {
  method: Method;
  /** Elysia's form: /api/books/:id. */
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  description?: string;
  body?: TSchema;
  /** Query parameters, one property each (documented, and typed for Eden; parsed by the handler). */
  query?: TObject;
  /** Header parameters (Idempotency-Key). */
  headers?: TObject;
  /** Answers by status. A body-less answer is NoContent. */
  response: Record<number, TSchema>;
  /** The success answers' media type, when not JSON (the Prometheus text of /metrics). */
  contentType?: string;
  /** "none": no bearer token is read (probes); "optional": anyone, a token shows more (public reads). Default: required. */
  auth?: "none" | "optional";
}

type ErrorResponses<S extends ErrorStatus> = { [K in S]: typeof ErrorEnvelope };

/**
 * The error envelope under each status: what Eden's `error.value` is typed as. Every route can
 * answer 413 (a declared length over the limit is refused before routing: http-guards.ts) and 500.
 */
export function errors<const S extends ErrorStatus>(...statuses: S[]): ErrorResponses<S | 413 | 500> {
  // A plain loop (every route calls this at every start); an object lists integer keys in
  // ascending order, whatever order they were set in.
  const responses: Record<number, typeof ErrorEnvelope> = { 413: ErrorEnvelope, 500: ErrorEnvelope };
  for (const status of statuses) responses[status] = ErrorEnvelope;
  return responses as ErrorResponses<S | 413 | 500>;
}

/**
 * The statuses an access rule can answer: 401 wherever a token is read (a sent token must be
 * valid, even on a public route; a missing one where one is needed), 403 where a role is asked.
 */
export function accessErrors(access: Access | undefined): readonly (401 | 403)[] {
  return typeof access === "object" && access !== null ? [401, 403] : [401];
}

/** The statuses a JSON body can add: malformed (400), too large (413), not JSON (415), invalid (422). */
export const BODY_ERRORS = [400, 413, 415, 422] as const;

/**
 * What Elysia is told about a route: its schemas, for the types. Elysia's types add a 422 of
 * its own validation shape to every route with a schema that does not declare one; our app
 * never answers that shape (every error is the envelope: error-envelope.ts), so the type says
 * so. Only the type: the document lists the statuses the route declares.
 */
export type RouteTypes<D extends RouteDoc> = (D["body"] extends TSchema ? { body: D["body"] } : {}) &
  (D["query"] extends TObject ? { query: D["query"] } : {}) & { response: { 422: typeof ErrorEnvelope } & D["response"] };

export class RouteDocs {
  private readonly entries: (RouteDoc | RouteDocs)[] = [];

  /** Every declaration, in order: a section's where the section was opened. */
  get routes(): RouteDoc[] {
    return this.entries.flatMap((entry) => (entry instanceof RouteDocs ? entry.routes : [entry]));
  }

  /** Records the route for the OpenAPI document; its schemas type the Elysia route (types only). */
  route<const D extends RouteDoc>(doc: D): RouteTypes<D> {
    this.entries.push(doc);
    return {} as RouteTypes<D>;
  }

  /**
   * A place in the order, taken now, for routes declared later: an app adds a plugin's reads
   * and its writes apart (app.ts), and the document lists the plugin's routes together, where
   * the plugin was made.
   */
  section(): RouteDocs {
    const section = new RouteDocs();
    this.entries.push(section);
    return section;
  }
}
