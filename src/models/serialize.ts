// Rows to wire JSON, by column type: times (epoch ms in storage) become ISO-8601 UTC strings,
// booleans (0/1) become true/false, JSON text becomes values. The one boundary for reads.
import type { Column } from "../db/list-query.ts";

export function rowToJson(row: Record<string, unknown>, columns: readonly Column[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of columns) {
    const value = row[column.name];
    out[column.name] = value === null || value === undefined ? null : fromStorage(column, value);
  }
  return out;
}

function fromStorage(column: Column, value: unknown): unknown {
  switch (column.type) {
    case "time":
      return new Date(value as number).toISOString();
    case "boolean":
      return value === 1 || value === true;
    case "json":
      return typeof value === "string" ? JSON.parse(value) : value;
    default:
      return value;
  }
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
