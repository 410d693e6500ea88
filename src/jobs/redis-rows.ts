// The one boundary between the Redis queue's job hashes and our rows: a job is stored as a
// hash of snake_case fields named like the PostgreSQL columns, every value a string, and an
// absent field is NULL. Besides the status fields a hash holds `claimed_by`, `entry` (its
// dispatch-stream entry while running) and `order` (its place among due jobs, below).
import { InvalidJobError, type JobRecord } from "./new-job.ts";
import type { StateRow } from "./rows.ts";
import { STATUS_COLUMNS, type StatusRow } from "./status-columns.ts";
import { DEFAULT_QUEUE } from "./types.ts";

/** Width of the zero-padded run_at at the front of an `order` member. */
export const ORDER_DIGITS = 15;

/**
 * A job's member in the due-job sorted sets. Their score is −priority; members of equal score
 * sort byte-wise, so "zero-padded run_at, then id" gives the claim order of the other engines:
 * priority DESC, run_at ASC, id ASC. Whole milliseconds from 1970 to the year 33658 keep their
 * order exactly; a fraction of a millisecond or a time before 1970 only ties (then id decides).
 */
export function readyOrder(runAt: number, id: string): string {
  const ms = Math.min(Math.max(Math.floor(runAt), 0), 10 ** ORDER_DIGITS - 1);
  return String(ms).padStart(ORDER_DIGITS, "0") + id;
}

/** PostgreSQL's INTEGER column bounds priorities there; here −priority must stay an exact Lua number. */
export function checkPriority(record: JobRecord): JobRecord {
  if (record.priority < -(2 ** 31) || record.priority >= 2 ** 31) throw new InvalidJobError("priority", "must be between -2147483648 and 2147483647");
  return record;
}

/** A validated job as the insert script takes it: the fields of its hash, flat. */
export interface RedisInsert {
  id: string;
  type: string;
  queue: string;
  unique_key?: string;
  fields: string[];
}

export function toInsert(r: JobRecord): RedisInsert {
  const fields: Record<string, string | number | null> = {
    id: r.id, type: r.type, status: "enqueued", payload: r.payload, headers: r.headers, priority: r.priority, attempts: 0,
    max_retry: r.maxRetry, run_at: r.runAt, order: readyOrder(r.runAt, r.id), group_key: r.groupKey, unique_key: r.uniqueKey,
    trace_id: r.traceId, actor_id: r.actorId, tenant_id: r.tenantId, timeout_ms: r.timeoutMs, created_at: r.createdAt, updated_at: r.createdAt, queue: r.queue,
  };
  return { id: r.id, type: r.type, queue: r.queue, ...(r.uniqueKey === null ? {} : { unique_key: r.uniqueKey }), fields: flatten(fields) };
}

/** Field/value pairs for HSET, leaving out NULLs (an absent field is NULL). */
export function flatten(fields: Record<string, string | number | null | undefined>): string[] {
  const flat: string[] = [];
  for (const [name, value] of Object.entries(fields)) if (value !== null && value !== undefined) flat.push(name, String(value));
  return flat;
}

/** HGETALL answers a map to the client and a flat array inside a script; both become a record. */
export function toRecord(hash: Record<string, string> | string[]): Record<string, string> {
  if (!Array.isArray(hash)) return hash;
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < hash.length; i += 2) record[hash[i]!] = hash[i + 1]!;
  return record;
}

const NUMERIC = new Set(["priority", "attempts", "requeues", "attempt_started", "max_retry", "run_at", "timeout_ms", "created_at", "started_at", "completed_at", "updated_at", "result_size"]);
const value = (hash: Record<string, string>, name: string) => {
  const v = hash[name];
  return v === undefined ? null : NUMERIC.has(name) ? Number(v) : v;
};

export function hashToRow(hash: Record<string, string>): StateRow {
  const names = ["id", "type", "status", "payload", "headers", "actor_id", "tenant_id", "max_retry", "group_key", "trace_id", "priority", "unique_key",
    "timeout_ms", "attempts", "requeues", "created_at", "run_at", "error", "result_url", "result_mime", "output", "started_at", "completed_at", "updated_at",
    "attempts_log", "claimed_by", "attempt_started"];
  const row = Object.fromEntries(names.map((name) => [name, value(hash, name)])) as unknown as StateRow;
  row.queue = hash.queue ?? DEFAULT_QUEUE; // jobs stored before named queues were in the default one
  return row;
}

/** The status row as listed (status-columns.ts): `output` stays JSON text, as in SQL. */
export function hashToStatusRow(hash: Record<string, string>): StatusRow {
  const row: StatusRow = Object.fromEntries(STATUS_COLUMNS.map((c) => [c.name, value(hash, c.name)]));
  row.queue ??= DEFAULT_QUEUE;
  return row;
}
