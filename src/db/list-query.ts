// Listing rows with filters, sort and pagination — the SQL side. Identifiers come ONLY from
// the table's declared columns (the parser in src/api/list-params.ts has already refused
// anything else; this checks again), and every value is a bound parameter: nothing a client
// sends is ever spliced into SQL text.
import type { Database } from "bun:sqlite";

export type ColumnType = "text" | "integer" | "real" | "boolean" | "time" | "json";

export interface Column {
  name: string;
  type: ColumnType;
  filterable?: boolean;
  sortable?: boolean;
  /** The only values a text column holds (a state): filtering by another is refused, not an empty list. */
  values?: readonly string[];
}

export type FilterOp = "eq" | "ne" | "gt" | "gte" | "lt" | "lte" | "in" | "like";
export const FILTER_OPS: readonly FilterOp[] = ["eq", "ne", "gt", "gte", "lt", "lte", "in", "like"];
export type Scalar = string | number | null;

export interface Condition {
  field: string;
  op: FilterOp;
  value: Scalar | Scalar[];
}

export interface ListQuery {
  /** AND of OR-groups: each inner array holds conditions joined with OR. */
  where: Condition[][];
  sort: { field: string; direction: "asc" | "desc" }[];
  limit: number;
  offset: number;
  /** Count matching rows only up to this many (a table of a million jobs is not counted per page). */
  countLimit?: number;
}

const SQL_OPS: Record<Exclude<FilterOp, "in">, string> = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE" };

/** Where rows come from, when not simply the table: an INDEXED BY clause and the (literal)
 * condition of its partial index, so a filter on a small state reads only that index. */
export interface ListSource {
  from: string;
  condition: string;
}

/** Returns one page of rows and the total number of matching rows. */
export function listRows<Row>(db: Database, table: string, columns: readonly Column[], query: ListQuery, source?: ListSource): { rows: Row[]; total: number } {
  const known = new Map(columns.map((c) => [c.name, c]));
  const params: Scalar[] = [];
  const where = query.where
    .map((group) => `(${group.map((c) => condition(known, c, params)).join(" OR ")})`)
    .join(" AND ");
  const clauses = [source?.condition, where].filter(Boolean);
  const whereSql = clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
  const order = sortWithTieBreaker(query).map((s) => `${ident(known, s.field)} ${s.direction === "desc" ? "DESC" : "ASC"}`).join(", ");
  const tableSql = source?.from ?? quote(table);
  const countSql = query.countLimit
    ? `SELECT count(*) AS n FROM (SELECT 1 FROM ${tableSql}${whereSql} LIMIT ${Math.floor(query.countLimit)})`
    : `SELECT count(*) AS n FROM ${tableSql}${whereSql}`;
  const total = (db.query(countSql).get(...params) as { n: number }).n;
  const rows = db.query(`SELECT * FROM ${tableSql}${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params, query.limit, query.offset) as Row[];
  return { rows, total };
}

/** Rows that tie on the sort keys are ordered by id (a ULID: creation order), in the
 * direction of the first key — so "newest first" stays newest first among equals. */
/** The query's sort, then the id in the first key's direction: a stable order for every engine. */
export function sortWithTieBreaker(query: ListQuery): { field: string; direction: "asc" | "desc" }[] {
  return [...query.sort, { field: "id", direction: query.sort[0]?.direction ?? "asc" }];
}

function condition(known: Map<string, Column>, c: Condition, params: Scalar[]): string {
  const column = ident(known, c.field);
  if (c.op === "in") {
    const values = Array.isArray(c.value) ? c.value : [c.value];
    params.push(...values);
    return `${column} IN (${values.map(() => "?").join(", ")})`;
  }
  if (Array.isArray(c.value)) throw new Error(`operator ${c.op} takes one value`);
  params.push(c.value);
  return `${column} ${SQL_OPS[c.op]} ?`;
}

function ident(known: Map<string, Column>, name: string): string {
  if (!known.has(name)) throw new Error(`unknown column ${JSON.stringify(name)}`);
  return quote(name);
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** The same listing over rows already in memory (the in-memory queue's status rows). */
export function listInMemory<Row extends Record<string, unknown>>(all: Iterable<Row>, query: ListQuery): { rows: Row[]; total: number } {
  const matching = [...all].filter((row) => query.where.every((group) => group.some((c) => matches(row[c.field], c))));
  const order = sortWithTieBreaker(query);
  matching.sort((a, b) => {
    for (const { field, direction } of order) {
      const cmp = compare(a[field], b[field]);
      if (cmp !== 0) return direction === "desc" ? -cmp : cmp;
    }
    return 0;
  });
  return { rows: matching.slice(query.offset, query.offset + query.limit), total: query.countLimit ? Math.min(query.countLimit, matching.length) : matching.length };
}

function matches(value: unknown, c: Condition): boolean {
  if (c.op === "in") return (c.value as Scalar[]).some((v) => value === v);
  if (value === null || value === undefined) return false; // as in SQL: NULL matches no comparison
  const cmp = compare(value, c.value);
  switch (c.op) {
    case "eq": return cmp === 0;
    case "ne": return cmp !== 0;
    case "gt": return cmp > 0;
    case "gte": return cmp >= 0;
    case "lt": return cmp < 0;
    case "lte": return cmp <= 0;
    case "like": return likeToRegExp(String(c.value)).test(String(value));
  }
}

/** SQLite's ordering: NULL first, then numbers, then text. */
function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  return String(a) < String(b) ? -1 : 1;
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/%/g, ".*").replace(/_/g, ".");
  return new RegExp(`^${body}$`, "is");
}
