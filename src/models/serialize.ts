// Rows to wire JSON, by column type: times (epoch ms in storage) become ISO-8601 UTC strings,
// booleans (0/1) become true/false, JSON text becomes values. The one boundary for reads.
import type { Column } from "../db/list-query.ts";
import { isoTime } from "./iso-time.ts";

type Serializer = (row: Record<string, unknown>) => Record<string, unknown>;

/**
 * Each column list's serializer is built once, on first use, as one function that writes an
 * object literal (a fixed shape) instead of a loop that adds keys one by one and switches on
 * each column's type: a list answers rows × columns of these per request. Column lists are
 * fixed per model, so the cache holds one entry per model.
 */
const serializers = new WeakMap<readonly Column[], Serializer>();

export function rowToJson(row: Record<string, unknown>, columns: readonly Column[]): Record<string, unknown> {
  let serialize = serializers.get(columns);
  if (!serialize) serializers.set(columns, (serialize = compileSerializer(columns)));
  return serialize(row);
}

/** A serializer for these columns, written as code once. Names are JSON-quoted, never spliced bare. */
export function compileSerializer(columns: readonly Column[]): Serializer {
  const fields = columns.map((column) => {
    const name = JSON.stringify(column.name);
    const value = `row[${name}]`;
    const converted = column.type === "time" ? `iso(${value})` : column.type === "boolean" ? `(${value} === 1 || ${value} === true)` : column.type === "json" ? `json(${value})` : value;
    return `${name}: ${value} === null || ${value} === undefined ? null : ${converted}`;
  });
  const json = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);
  return new Function("json", "iso", `return (row) => ({ ${fields.join(", ")} });`)(json, isoTime) as Serializer;
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms);
}
