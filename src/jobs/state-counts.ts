// Adds up state counts that arrive in parts (one part per index read, or per queue).
import type { StateCount } from "./queue.ts";

export function mergeStateCounts(rows: Iterable<StateCount>): StateCount[] {
  const merged = new Map<string, StateCount>();
  for (const row of rows) {
    const key = `${row.status}\u0000${row.type}`;
    const seen = merged.get(key);
    if (seen) seen.n += row.n;
    else merged.set(key, { ...row });
  }
  return [...merged.values()];
}
