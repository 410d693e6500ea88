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
  /** Never NULL: a keyset bound on it needs no `OR … IS NULL` (and can use an index's range). */
  notNull?: boolean;
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
  /**
   * Keyset pagination: only the rows after this position in the query's order, given as the
   * values of sortWithTieBreaker's fields (storage form) of the last row already seen. Every
   * engine orders NULL before any value (SQLite's order), so a position means the same
   * row boundary on SQLite, in memory, on Redis and on PostgreSQL.
   */
  after?: Scalar[];
  /** Do not count the matches (a keyset page answers has_more instead); total is then 0. */
  skipTotal?: boolean;
}

export type SortKey = { field: string; direction: "asc" | "desc" };

const SQL_OPS: Record<Exclude<FilterOp, "in">, string> = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE" };

/** Where rows come from, when not simply the table: an INDEXED BY clause and the (literal)
 * condition of its partial index, so a filter on a small state reads only that index. */
export interface ListSource {
  from: string;
  condition: string;
}

const byNameCache = new WeakMap<readonly Column[], ReadonlyMap<string, Column>>();

/** A column list by name, built once per list (a model's or the status rows' columns are fixed). */
export function columnsByName(columns: readonly Column[]): ReadonlyMap<string, Column> {
  let byName = byNameCache.get(columns);
  if (!byName) byNameCache.set(columns, (byName = new Map(columns.map((c) => [c.name, c]))));
  return byName;
}

/** Returns one page of rows and the total number of matching rows. */
export function listRows<Row>(db: Database, table: string, columns: readonly Column[], query: ListQuery, source?: ListSource): { rows: Row[]; total: number } {
  const known = columnsByName(columns);
  const params: Scalar[] = [];
  const where = query.where
    .map((group) => `(${group.map((c) => condition(known, c, params)).join(" OR ")})`)
    .join(" AND ");
  const keyset = query.after ? keysetCondition(sortWithTieBreaker(query), query.after, (name) => ident(known, name), (v) => (params.push(v), "?"), (name) => known.get(name)?.notNull === true) : "";
  const clauses = [source?.condition, where, keyset].filter(Boolean);
  const whereSql = clauses.length ? ` WHERE ${clauses.join(" AND ")}` : "";
  const order = sortWithTieBreaker(query).map((s) => `${ident(known, s.field)} ${s.direction === "desc" ? "DESC" : "ASC"}`).join(", ");
  const tableSql = source?.from ?? quote(table);
  const countSql = query.countLimit
    ? `SELECT count(*) AS n FROM (SELECT 1 FROM ${tableSql}${whereSql} LIMIT ${Math.floor(query.countLimit)})`
    : `SELECT count(*) AS n FROM ${tableSql}${whereSql}`;
  const rows = db.query(`SELECT * FROM ${tableSql}${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(...params, query.limit, query.offset) as Row[];
  if (query.skipTotal) return { rows, total: 0 };
  return { rows, total: impliedTotal(rows.length, query) ?? (db.query(countSql).get(...params) as { n: number }).n };
}

/**
 * The total a page tells without a COUNT: a page shorter than its limit holds the last
 * matches, so they number offset + its rows (an empty page past the first one does not tell:
 * null). The common list of a few rows is then one statement, not two — each statement on
 * SQLite is a read transaction of its own (two file locks and an fstat), 40% of a short list.
 */
export function impliedTotal(shown: number, query: Pick<ListQuery, "limit" | "offset" | "countLimit">): number | null {
  if (shown >= query.limit || (shown === 0 && query.offset > 0)) return null;
  const total = query.offset + shown;
  return query.countLimit ? Math.min(total, Math.floor(query.countLimit)) : total;
}

/** Rows that tie on the sort keys are ordered by id (a ULID: creation order), in the
 * direction of the first key — so "newest first" stays newest first among equals. */
/** The query's sort, then the id in the first key's direction: a stable order for every engine. */
export function sortWithTieBreaker(query: Pick<ListQuery, "sort">): SortKey[] {
  return [...query.sort, { field: "id", direction: query.sort[0]?.direction ?? "asc" }];
}

/** A row's position for keyset pagination: the values of its sort keys and id, in storage form. */
export function keyOf(row: Record<string, unknown>, query: Pick<ListQuery, "sort">): Scalar[] {
  return sortWithTieBreaker(query).map(({ field }) => (row[field] ?? null) as Scalar);
}

/**
 * SQL for "after `after` in `order`", NULL sorting first: (k1 beyond v1) OR (k1 = v1 AND k2
 * beyond v2) OR …, led by a bound on the first key alone (k1 >= v1) that an index on k1 can
 * seek to, so a deep page reads from its position on instead of from the start. `bind` adds a
 * parameter and answers its placeholder; it is called in the order the placeholders appear.
 */
export function keysetCondition(order: readonly SortKey[], after: readonly Scalar[], column: (name: string) => string, bind: (value: Scalar) => string, notNull: (name: string) => boolean): string {
  const nonNull = (name: string) => name === "id" || notNull(name);
  const first = order[0]!;
  const lead = leadingBound(column(first.field), first.direction, after[0] ?? null, bind, nonNull(first.field));
  const disjuncts: string[] = [];
  order.forEach((key, i) => {
    const value = after[i] ?? null;
    if (key.direction === "desc" && value === null) return; // nothing sorts after NULL going down
    const equal = order.slice(0, i).map((k, j) => (after[j] === null ? `${column(k.field)} IS NULL` : `${column(k.field)} = ${bind(after[j]!)}`));
    const col = column(key.field);
    const beyond = value === null ? `${col} IS NOT NULL` : key.direction === "asc" ? `${col} > ${bind(value)}` : nonNull(key.field) ? `${col} < ${bind(value)}` : `(${col} < ${bind(value)} OR ${col} IS NULL)`;
    disjuncts.push([...equal, beyond].join(" AND "));
  });
  const rest = disjuncts.length ? disjuncts.map((d) => `(${d})`).join(" OR ") : "1 = 0";
  return lead ? `(${lead} AND (${rest}))` : `(${rest})`;
}

function leadingBound(col: string, direction: "asc" | "desc", value: Scalar, bind: (value: Scalar) => string, nonNull: boolean): string | null {
  if (direction === "asc") return value === null ? null : `${col} >= ${bind(value)}`;
  if (value === null) return `${col} IS NULL`;
  return nonNull ? `${col} <= ${bind(value)}` : `(${col} <= ${bind(value)} OR ${col} IS NULL)`;
}

function condition(known: ReadonlyMap<string, Column>, c: Condition, params: Scalar[]): string {
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

function ident(known: ReadonlyMap<string, Column>, name: string): string {
  if (!known.has(name)) throw new Error(`unknown column ${JSON.stringify(name)}`);
  return quote(name);
}

function quote(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** The same listing over rows already in memory (the in-memory queue's status rows). */
export function listInMemory<Row extends Record<string, unknown>>(all: Iterable<Row>, query: ListQuery): { rows: Row[]; total: number } {
  // Groups without a LIKE go first: an owner scope (actor_id eq) rules a row out before any
  // pattern is matched against it, so a caller with no jobs pays nothing for a pattern.
  const groups = query.where
    .map((group) => ({ likes: group.some((c) => c.op === "like"), tests: group.map(predicate) }))
    .sort((a, b) => Number(a.likes) - Number(b.likes))
    .map((g) => g.tests);
  const order = sortWithTieBreaker(query);
  const byOrder = (a: readonly unknown[], b: readonly unknown[]) => {
    for (let i = 0; i < order.length; i++) {
      const cmp = compare(a[i], b[i]);
      if (cmp !== 0) return order[i]!.direction === "desc" ? -cmp : cmp;
    }
    return 0;
  };
  const after = query.after;
  const matching = [...all]
    .filter((row) => groups.every((group) => group.some((test) => test(row))))
    .map((row) => ({ row, key: keyOf(row, query) }))
    .filter(({ key }) => !after || byOrder(key, after) > 0)
    .sort((a, b) => byOrder(a.key, b.key))
    .map(({ row }) => row);
  const total = query.skipTotal ? 0 : query.countLimit ? Math.min(query.countLimit, matching.length) : matching.length;
  return { rows: matching.slice(query.offset, query.offset + query.limit), total };
}

/** A condition as a test of a row; a LIKE pattern is compiled once, not once per row. */
function predicate(c: Condition): (row: Record<string, unknown>) => boolean {
  if (c.op === "like") {
    const like = likeMatcher(String(c.value));
    return (row) => row[c.field] !== null && row[c.field] !== undefined && like(String(row[c.field]));
  }
  return (row) => matches(row[c.field], c);
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
    case "like": return likeMatcher(String(c.value))(String(value));
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

/**
 * SQLite's LIKE (`%` any run, `_` one character, ASCII letters case-blind, no escape
 * character) without backtracking. A pattern turned into a regex (`%` → `.*`) backtracks:
 * 26 `%` against 20 rows took 25 s. Here the pattern is cut at each `%` into segments; the
 * first must match at the start, the last at the end, and each one between at its leftmost
 * place after the one before. Taking the leftmost place never loses a match (any later
 * placement leaves less text for the segments that follow), so no choice is ever undone:
 * at most text × pattern character comparisons, counted in `meter` when given.
 */
export function likeMatcher(pattern: string): (text: string, meter?: { steps: number }) => boolean {
  const segments = pattern.split("%").map((segment) => [...foldAscii(segment)]);
  const anchoredBothEnds = segments.length === 1;
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((segment) => segment.length > 0);
  return (raw, meter = { steps: 0 }) => {
    const text = [...foldAscii(raw)];
    if (anchoredBothEnds) return text.length === first.length && segmentAt(first, text, 0, meter);
    if (text.length < first.length + last.length) return false;
    if (!segmentAt(first, text, 0, meter) || !segmentAt(last, text, text.length - last.length, meter)) return false;
    let from = first.length;
    const end = text.length - last.length; // the last segment owns the text from here on
    for (const segment of middle) {
      let at = from;
      while (at + segment.length <= end && !segmentAt(segment, text, at, meter)) at++;
      if (at + segment.length > end) return false;
      from = at + segment.length;
    }
    return true;
  };
}

function segmentAt(segment: readonly string[], text: readonly string[], at: number, meter: { steps: number }): boolean {
  for (let i = 0; i < segment.length; i++) {
    meter.steps++;
    if (segment[i] !== "_" && segment[i] !== text[at + i]) return false;
  }
  return true;
}

/** SQLite folds only ASCII letters for LIKE. */
function foldAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}
