// Which of the Redis queue's index keys answer a listing (redis-scripts.ts keeps them): a
// listing filtered only by status and type (eq or in) and sorted by id or created_at reads
// the `listed:<status>|<type>` keys — or `ids` when unfiltered — a page's worth from each,
// instead of every job kept. created_at sorts as id does here: a job's id is made from its
// created_at (ULID), and ties go to the id.
import type { Condition, ListQuery } from "../db/list-query.ts";
import type { JobStatus } from "./types.ts";

export const JOB_STATUSES: readonly JobStatus[] = ["enqueued", "running", "succeeded", "failed", "dead", "cancelled"];

export interface ListingPlan {
  /** The statuses and types asked for; null: any. */
  statuses: string[] | null;
  types: string[] | null;
  direction: "asc" | "desc";
}

/** The plan for a listing the indexes can answer, or null (the caller reads every job). */
export function planListing(query: ListQuery): ListingPlan | null {
  const sort = query.sort;
  if (sort.length > 1 || (sort[0] && sort[0].field !== "id" && sort[0].field !== "created_at")) return null;
  const allowed: Record<"status" | "type", string[] | null> = { status: null, type: null };
  for (const group of query.where) {
    const field = group[0]?.field;
    if (field !== "status" && field !== "type") return null;
    const values = valuesOf(group, field);
    if (!values) return null;
    // Two groups on one field must both hold: AND is the intersection.
    allowed[field] = allowed[field] ? allowed[field]!.filter((v) => values.includes(v)) : values;
  }
  return { statuses: allowed.status, types: allowed.type, direction: sort[0]?.direction ?? "asc" };
}

/** The values one OR-group accepts, if it is only equality (eq, in) on `field` with strings. */
function valuesOf(group: readonly Condition[], field: string): string[] | null {
  const values: string[] = [];
  for (const c of group) {
    if (c.field !== field || (c.op !== "eq" && c.op !== "in")) return null;
    for (const v of [c.value].flat()) {
      if (typeof v !== "string") return null;
      values.push(v);
    }
  }
  return values;
}
