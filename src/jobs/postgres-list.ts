// Listing status rows on PostgreSQL: the same ListQuery as SQLite (src/db/list-query.ts),
// with $n placeholders. Identifiers only from the declared columns; values always bound.
// NULL sorts first as in SQLite (PostgreSQL's default puts it last going up): one order for
// every engine, so the forwarding queue's merge and a keyset cursor mean the same rows.
import type { SQL } from "bun";
import { keysetCondition, sortWithTieBreaker, type Column, type Condition, type ListQuery } from "../db/list-query.ts";

const OPS = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE" } as const;

export async function listRowsPostgres<Row>(sql: SQL, table: string, columns: readonly Column[], query: ListQuery): Promise<{ rows: Row[]; total: number }> {
  const known = new Map(columns.map((c) => [c.name, c]));
  const ident = (name: string) => {
    if (!known.has(name)) throw new Error(`unknown column ${JSON.stringify(name)}`);
    return `"${name}"`;
  };
  const notNull = (name: string) => name === "id" || known.get(name)?.notNull === true;
  const params: unknown[] = [];
  const bind = (v: unknown) => (params.push(v), `$${params.length}`);
  const condition = (c: Condition) =>
    c.op === "in" ? `${ident(c.field)} = ANY(${bind(c.value)})` : `${ident(c.field)} ${OPS[c.op]} ${bind(c.value)}`;
  const groups = query.where.map((group) => `(${group.map(condition).join(" OR ")})`);
  if (query.after) groups.push(keysetCondition(sortWithTieBreaker(query), query.after, ident, bind, notNull));
  const where = groups.join(" AND ");
  const whereSql = where ? ` WHERE ${where}` : "";
  // A NOT NULL column keeps the plain order, which its index can give.
  const nulls = (field: string, direction: "asc" | "desc") => (notNull(field) ? "" : direction === "desc" ? " NULLS LAST" : " NULLS FIRST");
  const order = sortWithTieBreaker(query).map((s) => `${ident(s.field)} ${s.direction === "desc" ? "DESC" : "ASC"}${nulls(s.field, s.direction)}`).join(", ");
  const countSql = query.countLimit
    ? `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table}${whereSql} LIMIT ${Math.floor(query.countLimit)}) AS capped`
    : `SELECT count(*)::int AS n FROM ${table}${whereSql}`;
  const [count] = query.skipTotal ? [{ n: 0 }] : ((await sql.unsafe(countSql, params)) as { n: number }[]);
  const rows = (await sql.unsafe(`SELECT * FROM ${table}${whereSql} ORDER BY ${order} LIMIT ${bind(query.limit)} OFFSET ${bind(query.offset)}`, params)) as Row[];
  return { rows, total: count?.n ?? 0 };
}
