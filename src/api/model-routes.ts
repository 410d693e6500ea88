// CRUD routes of a model under /api/<table>: list, get, create (201), replace (PUT), update
// (PATCH), delete (204). Access per operation from the model; owned models show non-admins
// only their own rows, and a model's `visible` values only the rows that hold them (another
// user's record, or a draft, is a 404, so its existence does not leak).
import type { Elysia } from "elysia";
import type { Model, Operation, Typed } from "../models/model.ts";
import { accessErrors, BODY_ERRORS, errors, NoContent } from "./route-docs.ts";
import { Many, One } from "./schemas.ts";
import type { AuthUser } from "../models/users.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { keysetMeta } from "./cursor.ts";
import { engineQuery, listQuerySchema, parseListParams, type ListQuerySchema, type ParsedList } from "./list-params.ts";
import { readableRecord } from "../models/model.ts";
import { syncRoute } from "./sync-route.ts";
import type { ModelRecords, Scope } from "../models/services.ts";

export function listEnvelope(rows: unknown[], total: number, query: ParsedList) {
  return { data: rows, meta: { total, page: query.page, limit: query.limit, pages: Math.ceil(total / query.limit) } };
}

type AnyModel = Model<string, unknown, unknown, Operation>;
type RecordOfModel<M> = M extends Model<string, infer R, unknown, Operation> ? R : never;
type InputOfModel<M> = M extends Model<string, unknown, infer I, Operation> ? I : never;
/** A plugin that adds nothing: an operation the model does not serve. */
const none = (app: Elysia) => app;
/** The plugin's type when the model serves its operation, else that of a plugin adding nothing (as its return type, so it stays generic). */
type Maybe<On extends boolean, P extends (app: Elysia) => unknown> = (app: Elysia) => On extends true ? ReturnType<P> : Elysia;
type Has<M extends AnyModel, O extends Operation> = M extends Model<string, unknown, unknown, infer Ops> ? (O extends Ops ? true : false) : false;
const camel = (s: string) => s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase());

/** A model's CRUD routes as one plugin; its type carries each route the model serves, with its record and bodies. */
export function modelRoutes<M extends AnyModel>(model: M, store: ModelRecords, ctx: AppContext) {
  const { reads, writes } = modelRouteParts(model, store, ctx);
  return (app: Elysia) => app.use(reads).use(writes);
}

/**
 * The same routes as reads (list, get) and writes, so an app can add its reads before its body
 * parser (app.ts). Each is a function plugin: it adds its routes to the app it is given, once
 * (an Elysia instance per route, then per part, re-added each by the next use(), cost a start
 * ~50 instances and two or three adds of every route). The document lists them where this was
 * called (a section), whenever they are added.
 */
export function modelRouteParts<M extends AnyModel>(model: M, store: ModelRecords, ctx: AppContext) {
  type Table = M["table"];
  const base = `/api/${model.table}` as `/api/${Table}`;
  const item = `${base}/:id` as `/api/${Table}/:id`;
  const record = model.schemas.record as Typed<RecordOfModel<M>>;
  const input = model.schemas.create as Typed<InputOfModel<M>>;
  const patch = model.schemas.update as Typed<Partial<InputOfModel<M>>>;
  const has = (o: Operation) => model.access[o] !== false;
  const docs = ctx.docs.section();
  const tags = [model.table];
  const Name = camel(model.name);
  const Plural = camel(model.table);
  const scope = (user: AuthUser | null): Scope | undefined => {
    if (user && ctx.isAdmin(user)) return undefined;
    const owned = model.ownerField ? { ownerId: user?.id ?? "" } : {}; // no caller owns nothing
    return model.ownerField || model.visible ? { ...owned, ...(model.visible ? { visible: model.visible } : {}) } : undefined;
  };
  const caller = (request: Request, operation: keyof typeof model.access) => {
    const user = ctx.auth(request);
    authorize(model.access[operation], user, ctx.adminRole);
    return user;
  };
  const authErrors = (o: Operation) => accessErrors(model.access[o]);
  const auth = (o: Operation) => (model.access[o] === "public" ? ("optional" as const) : undefined);
  const write = (user: AuthUser | null, request: Request) => ({ auth: user, services: ctx.services, traceparent: ctx.traceparent(request) });
  // Writes join the group commit: the answer waits for the commit that holds them.
  const db = ctx.services.db;
  // Every answer passes here: write-only fields (a webhook's secret) never leave the server.
  const readable = (row: Record<string, unknown>) => readableRecord(model as Model, row) as never;

  // The list's query schema is built when first read (a getter): only the document reads it, and
  // building it cost a start ~0.1 ms per list.
  let listQuery: ListQuerySchema | undefined;
  // Reads are synchronous (SQLite): syncRoute lets Elysia see so.
  const list = (app: Elysia) => app.get(base, syncRoute(({ request }: { request: Request }) => {
    const user = caller(request, "list");
    const query = parseListParams(new URL(request.url).searchParams, model.columns);
    const listed = store.list(engineQuery(query), scope(user));
    if (query.cursor === null) return listEnvelope(listed.rows.map(readable), listed.total, query) as never;
    const page = keysetMeta(listed.rows, query, query.cursor, listed.keys);
    return { data: page.rows.map(readable), meta: page.meta } as never;
  }), docs.route({ method: "GET", path: base, operationId: `list${Plural}`, summary: `List ${model.table}`, tags, auth: auth("list"), get query() { return (listQuery ??= listQuerySchema(model.columns)); }, response: { 200: Many(record), ...errors(400, ...authErrors("list")) } }));

  const get = (app: Elysia) => app.get(item, syncRoute(({ request, params }: { request: Request; params: Record<string, string> }) => {
    const found = store.get(params.id!, scope(caller(request, "get")));
    if (!found) throw notFound(model.name);
    return { data: readable(found) };
  }), docs.route({ method: "GET", path: item, operationId: `get${Name}`, summary: `Get a ${model.name}`, tags, auth: auth("get"), response: { 200: One(record), ...errors(404, ...authErrors("get")) } }));

  const create = (app: Elysia) => app.post(base, async ({ request, body, set }) => {
    const user = caller(request, "create");
    const created = await db.write(() => store.create(body, write(user, request)));
    set.status = 201;
    return { data: readable(created) } as never;
  }, docs.route({ method: "POST", path: base, operationId: `create${Name}`, summary: `Create a ${model.name}`, tags, auth: auth("create"), body: input, response: { 201: One(record), ...errors(...BODY_ERRORS, 409, ...authErrors("create")) } }));

  const update = (app: Elysia) => app
    .put(item, async ({ request, params, body }) => {
      const user = caller(request, "update");
      return { data: readable(await db.write(() => store.update(params.id, body, write(user, request), scope(user), "replace"))) };
    }, docs.route({ method: "PUT", path: item, operationId: `replace${Name}`, summary: `Replace a ${model.name}`, tags, auth: auth("update"), body: input, response: { 200: One(record), ...errors(...BODY_ERRORS, 404, 409, ...authErrors("update")) } }))
    .patch(item, async ({ request, params, body }) => {
      const user = caller(request, "update");
      return { data: readable(await db.write(() => store.update(params.id, body, write(user, request), scope(user), "patch"))) };
    }, docs.route({ method: "PATCH", path: item, operationId: `update${Name}`, summary: `Change a ${model.name}`, tags, auth: auth("update"), body: patch, response: { 200: One(record), ...errors(...BODY_ERRORS, 404, 409, ...authErrors("update")) } }));

  const remove = (app: Elysia) => app.delete(item, async ({ request, params, set }) => {
    const user = caller(request, "delete");
    await db.write(() => store.remove(params.id, write(user, request), scope(user)));
    set.status = 204;
    return new Response(null, { status: 204 });
  }, docs.route({ method: "DELETE", path: item, operationId: `delete${Name}`, summary: `Delete a ${model.name}`, tags, auth: auth("delete"), response: { 204: NoContent, ...errors(404, ...authErrors("delete")) } }));

  // Only the operations the model serves get a route (and a line in the document).
  const reads = (app: Elysia) => app
    .use((has("list") ? list : none) as Maybe<Has<M, "list">, typeof list>)
    .use((has("get") ? get : none) as Maybe<Has<M, "get">, typeof get>);
  const writes = (app: Elysia) => app
    .use((has("create") ? create : none) as Maybe<Has<M, "create">, typeof create>)
    .use((has("update") ? update : none) as Maybe<Has<M, "update">, typeof update>)
    .use((has("delete") ? remove : none) as Maybe<Has<M, "delete">, typeof remove>);
  return { reads, writes };
}
