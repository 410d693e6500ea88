// CRUD routes of a model under /api/<table>: list, get, create (201), replace (PUT), update
// (PATCH), delete (204). Access per operation from the model; owned models show non-admins
// only their own rows, and a model's `visible` values only the rows that hold them (another
// user's record, or a draft, is a 404, so its existence does not leak).
import type { Elysia } from "elysia";
import type { AuthUser } from "../models/users.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { notFound } from "../errors.ts";
import { keysetMeta } from "./cursor.ts";
import { engineQuery, parseListParams, type ParsedList } from "./list-params.ts";
import { readableRecord } from "../models/model.ts";
import type { ModelRecords, Scope } from "../models/services.ts";

/** Route paths are built at run time, so Elysia cannot type their params. */
export const idOf = (params: unknown): string => (params as { id: string }).id;

export function listEnvelope(rows: unknown[], total: number, query: ParsedList) {
  return { data: rows, meta: { total, page: query.page, limit: query.limit, pages: Math.ceil(total / query.limit) } };
}

export function registerModelRoutes(app: Elysia, store: ModelRecords, ctx: AppContext): string[] {
  const model = store.model;
  const base = `/api/${model.table}`;
  const item = `${base}/:id`;
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
  const write = (user: AuthUser | null, request: Request) => ({ auth: user, services: ctx.services, traceparent: ctx.traceparent(request) });
  // Writes join the group commit: the answer waits for the commit that holds them.
  const db = ctx.services.db;
  // Every answer passes here: write-only fields (a webhook's secret) never leave the server.
  const readable = (record: Record<string, unknown>) => readableRecord(model, record);

  if (model.access.list !== false) {
    app.get(base, ({ request }) => {
      const user = caller(request, "list");
      const query = parseListParams(new URL(request.url).searchParams, model.columns);
      const { rows, total, keys } = store.list(engineQuery(query), scope(user));
      if (query.cursor === null) return listEnvelope(rows.map(readable), total, query);
      const page = keysetMeta(rows, query, query.cursor, keys);
      return { data: page.rows.map(readable), meta: page.meta };
    });
  }
  if (model.access.get !== false) {
    app.get(item, ({ request, params }) => {
      const record = store.get(idOf(params), scope(caller(request, "get")));
      if (!record) throw notFound(model.name);
      return { data: readable(record) };
    });
  }
  if (model.access.create !== false) {
    app.post(base, async ({ request, body, set }) => {
      const user = caller(request, "create");
      const record = await db.write(() => store.create(body, write(user, request)));
      set.status = 201;
      return { data: readable(record) };
    });
  }
  if (model.access.update !== false) {
    app.put(item, async ({ request, params, body }) => {
      const user = caller(request, "update");
      return { data: readable(await db.write(() => store.update(idOf(params), body, write(user, request), scope(user), "replace"))) };
    });
    app.patch(item, async ({ request, params, body }) => {
      const user = caller(request, "update");
      return { data: readable(await db.write(() => store.update(idOf(params), body, write(user, request), scope(user), "patch"))) };
    });
  }
  if (model.access.delete !== false) {
    app.delete(item, async ({ request, params, set }) => {
      const user = caller(request, "delete");
      await db.write(() => store.remove(idOf(params), write(user, request), scope(user)));
      set.status = 204;
      return new Response(null, { status: 204 });
    });
  }
  return [base, item];
}
