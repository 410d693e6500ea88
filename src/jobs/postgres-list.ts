// Listing status rows on PostgreSQL: the same ListQuery as SQLite (src/db/list-query.ts),
// with $n placeholders. Identifiers only from the declared columns; values always bound.
import type { SQL } from "bun";
import { sortWithTieBreaker, type Column, type Condition, type ListQuery } from "../db/list-query.ts";

const OPS = { eq: "=", ne: "<>", gt: ">", gte: ">=", lt: "<", lte: "<=", like: "LIKE" } as const;

export async function listRowsPostgres<Row>(sql: SQL, table: string, columns: readonly Column[], query: ListQuery): Promise<{ rows: Row[]; total: number }> {
  const known = new Set(columns.map((c) => c.name));
  const ident = (name: string) => {
    if (!known.has(name)) throw new Error(`unknown column ${JSON.stringify(name)}`);
    return `"${name}"`;
  };
  const params: unknown[] = [];
  const bind = (v: unknown) => (params.push(v), `$${params.length}`);
  const condition = (c: Condition) =>
    c.op === "in" ? `${ident(c.field)} = ANY(${bind(c.value)})` : `${ident(c.field)} ${OPS[c.op]} ${bind(c.value)}`;
  const where = query.where.map((group) => `(${group.map(condition).join(" OR ")})`).join(" AND ");
  const whereSql = where ? ` WHERE ${where}` : "";
  const order = sortWithTieBreaker(query).map((s) => `${ident(s.field)} ${s.direction === "desc" ? "DESC" : "ASC"}`).join(", ");
  const countSql = query.countLimit
    ? `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table}${whereSql} LIMIT ${Math.floor(query.countLimit)}) AS capped`
    : `SELECT count(*)::int AS n FROM ${table}${whereSql}`;
  const [count] = (await sql.unsafe(countSql, params)) as { n: number }[];
  const rows = (await sql.unsafe(`SELECT * FROM ${table}${whereSql} ORDER BY ${order} LIMIT ${bind(query.limit)} OFFSET ${bind(query.offset)}`, params)) as Row[];
  return { rows, total: count?.n ?? 0 };
}
