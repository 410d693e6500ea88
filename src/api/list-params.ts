// Parsing a list request's query string into a ListQuery. The grammar (docs/api.md):
//   ?status=running&type=send_receipt        shorthand: field equals value (AND)
//   ?filter=price_cents:gte:500              field:op:value, ops eq ne gt gte lt lte in like
//   ?filter[0]=a:eq:1&filter[0]=b:eq:2       same index = one OR group; groups are ANDed
//   ?sort=-created_at,title  or  ?sort=created_at:desc,title:asc    (id breaks ties)
//   ?page=2&limit=50                         default limit 20, at most 100
//   ?cursor=&limit=50, then ?cursor=<next_cursor>   keyset pages (src/api/cursor.ts)
// Anything else — an unknown field or operator, a value of the wrong type, a bad page — is a
// 400 INVALID_QUERY, never a silently ignored parameter.
import { columnsByName, FILTER_OPS, type Column, type Condition, type FilterOp, type ListQuery, type Scalar } from "../db/list-query.ts";
import { decodeCursor } from "./cursor.ts";
import { invalidQuery } from "../errors.ts";
import { Type, type TObject } from "@sinclair/typebox";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;
/** Longer LIKE patterns are refused: every engine's matching costs text × pattern. */
export const MAX_LIKE_PATTERN = 400;
const RESERVED = new Set(["filter", "sort", "page", "limit", "cursor"]);

export interface ParsedList extends ListQuery {
  page: number;
  /** Keyset mode: the cursor sent ("" for the first page); null for ?page= mode. */
  cursor: string | null;
}

export function parseListParams(params: URLSearchParams, columns: readonly Column[]): ParsedList {
  const byName = columnsByName(columns);
  const where: Condition[][] = [];
  const orGroups = new Map<string, Condition[]>();

  for (const [key, raw] of params) {
    if (key === "filter") where.push([parseFilter(raw, byName)]);
    else if (/^filter\[\d+\]$/.test(key)) {
      const group = orGroups.get(key) ?? [];
      group.push(parseFilter(raw, byName));
      orGroups.set(key, group);
    } else if (!RESERVED.has(key)) {
      where.push([condition(byName, key, "eq", raw)]);
    }
  }
  where.push(...orGroups.values());

  const limit = integerParam(params, "limit", DEFAULT_LIMIT);
  if (limit < 1 || limit > MAX_LIMIT) throw invalidQuery(`limit must be between 1 and ${MAX_LIMIT}`, "limit");
  const page = integerParam(params, "page", 1);
  if (page < 1) throw invalidQuery("page must be 1 or more", "page");
  const offset = (page - 1) * limit;
  // SQLite and PostgreSQL take a 64-bit OFFSET; a number past 2^53 is not even exact here.
  if (!Number.isSafeInteger(offset)) throw invalidQuery(`page is too large: page × limit must stay below ${Number.MAX_SAFE_INTEGER}`, "page");
  const sort = parseSort(params.get("sort"), byName);
  const cursor = params.get("cursor");
  if (cursor === null) return { where, sort, limit, page, offset, cursor: null };
  if (params.has("page")) throw invalidQuery("send either cursor or page, not both", "cursor");
  return { where, sort, limit, page: 1, offset: 0, cursor, ...(cursor ? { after: decodeCursor(cursor, { sort }, columns) } : {}) };
}

/** What to ask an engine for: in keyset mode one row more than the page (has_more) and no count. */
export function engineQuery(query: ParsedList): ParsedList {
  return query.cursor === null ? query : { ...query, limit: query.limit + 1, skipTotal: true };
}

function parseFilter(raw: string, byName: ReadonlyMap<string, Column>): Condition {
  const first = raw.indexOf(":");
  const second = raw.indexOf(":", first + 1);
  if (first < 0 || second < 0) throw invalidQuery(`filter must be field:op:value, got "${raw}"`, "filter");
  const op = raw.slice(first + 1, second);
  if (!FILTER_OPS.includes(op as FilterOp)) throw invalidQuery(`unknown filter operator "${op}" (use ${FILTER_OPS.join(", ")})`, "filter");
  return condition(byName, raw.slice(0, first), op as FilterOp, raw.slice(second + 1));
}

function condition(byName: ReadonlyMap<string, Column>, field: string, op: FilterOp, raw: string): Condition {
  const column = byName.get(field);
  if (!column?.filterable) throw invalidQuery(`cannot filter by "${field}"`, field);
  if (op === "like" && column.type !== "text") throw invalidQuery(`"like" applies to text fields only`, field);
  if (op === "like" && raw.length > MAX_LIKE_PATTERN) throw invalidQuery(`a "like" pattern may be at most ${MAX_LIKE_PATTERN} characters`, field);
  const value = op === "in" ? raw.split(",").map((v) => coerce(column, v)) : coerce(column, raw);
  // A status that does not exist is a mistake (a typo, an old name): say so rather than
  // answer an empty list. A like pattern is not a value, so it is not checked.
  if (column.values && op !== "like") {
    const unknown = [value].flat().find((v) => !column.values!.includes(String(v)));
    if (unknown !== undefined) throw invalidQuery(`${field} must be one of ${column.values.join(", ")}, not "${unknown}"`, field);
  }
  return { field, op, value };
}

/** A query-string value as the column's storage type. */
function coerce(column: Column, raw: string): Scalar {
  switch (column.type) {
    case "integer":
      if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw invalidQuery(`${column.name} must be an integer between ±${Number.MAX_SAFE_INTEGER}`, column.name);
      return Number(raw);
    case "real":
      if (raw.trim() === "" || !Number.isFinite(Number(raw))) throw invalidQuery(`${column.name} must be a number`, column.name);
      return Number(raw);
    case "boolean":
      if (raw !== "true" && raw !== "false") throw invalidQuery(`${column.name} must be true or false`, column.name);
      return raw === "true" ? 1 : 0;
    case "time": {
      const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (!Number.isSafeInteger(ms)) throw invalidQuery(`${column.name} must be an ISO-8601 time or epoch milliseconds`, column.name);
      return ms;
    }
    case "json":
      throw invalidQuery(`cannot filter by "${column.name}"`, column.name);
    case "text":
      return raw;
  }
}

function parseSort(raw: string | null, byName: ReadonlyMap<string, Column>): ListQuery["sort"] {
  if (!raw) return [];
  return raw.split(",").map((part) => {
    let field = part.trim();
    let direction: "asc" | "desc" = "asc";
    if (field.startsWith("-")) [field, direction] = [field.slice(1), "desc"];
    else if (field.includes(":")) {
      const [name, dir] = field.split(":");
      if (dir !== "asc" && dir !== "desc") throw invalidQuery(`sort direction must be asc or desc, got "${dir}"`, "sort");
      [field, direction] = [name!, dir];
    }
    if (!byName.get(field)?.sortable) throw invalidQuery(`cannot sort by "${field}"`, "sort");
    return { field, direction };
  });
}

function integerParam(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw invalidQuery(`${name} must be a whole number below ${Number.MAX_SAFE_INTEGER}`, name);
  return Number(raw);
}

const listQueryBase = {
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1, description: "page mode (meta: total, page, limit, pages); not with cursor" })),
  cursor: Type.Optional(Type.String({ description: "keyset mode (meta: limit, next_cursor, has_more): empty for the first page, then meta.next_cursor as answered, with the same sort; rows inserted meanwhile never shift a page. An altered cursor, or one sent with another sort or with page, is 400 INVALID_QUERY" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT })),
  sort: Type.Optional(Type.String({ description: "e.g. -created_at,title or created_at:desc" })),
  filter: Type.Optional(Type.Array(Type.String(), { description: "field:op:value (ops eq ne gt gte lt lte in like); repeat to AND" })),
};
export type ListQuerySchema = TObject<typeof listQueryBase>;

/** The query a list takes, as documented (and typed for clients): the grammar above, and `?<column>=` for each filterable column. */
export function listQuerySchema(columns: readonly Column[]): ListQuerySchema {
  const shorthand = columns.filter((c) => c.filterable).map((c) => [c.name, Type.Optional(c.values ? Type.Union(c.values.map((v) => Type.Literal(v))) : Type.String({ description: `equals (shorthand for filter=${c.name}:eq:…)` }))]);
  return Type.Object({ ...listQueryBase, ...Object.fromEntries(shorthand) }) as unknown as ListQuerySchema;
}
