// The status row as listed and filtered (REST `job_statuses`): its columns, and a JobState
// as a storage-form row, so every queue back-end can be listed with the same ListQuery.
import type { Column } from "../db/list-query.ts";
import { JOB_STATUSES, type JobState, type JobStatus } from "./types.ts";

const filterable = (name: string, type: Column["type"] = "text"): Column => ({ name, type, filterable: true, sortable: true });

export const STATUS_COLUMNS: Column[] = [
  { ...filterable("id"), notNull: true },
  { ...filterable("type"), notNull: true },
  { ...filterable("status"), values: JOB_STATUSES, notNull: true },
  { ...filterable("queue"), notNull: true },
  { name: "priority", type: "integer", filterable: true, sortable: true, notNull: true },
  { name: "attempts", type: "integer", filterable: true, sortable: true, notNull: true },
  { name: "max_retry", type: "integer", notNull: true },
  filterable("actor_id"),
  filterable("tenant_id"),
  filterable("group_key"),
  filterable("trace_id"),
  { name: "error", type: "text" },
  { name: "result_url", type: "text" },
  { name: "result_mime", type: "text" },
  { name: "output", type: "json" },
  { ...filterable("run_at", "time"), notNull: true },
  { ...filterable("created_at", "time"), notNull: true },
  filterable("started_at", "time"),
  filterable("completed_at", "time"),
  { ...filterable("updated_at", "time"), notNull: true },
];

export type StatusRow = Record<string, string | number | null>;

/** The columns of a job row its attempt history is read from (rows.ts: attemptHistoryOf). */
export interface HistoryColumns {
  status: JobStatus;
  attempts: number;
  started_at: number | null;
  completed_at: number | null;
  attempts_log?: string | null;
  claimed_by?: string | null;
  attempt_started?: number;
}

/** A status row with the columns its attempt history is read from: what a point read answers from. */
export type StatusRecord = StatusRow & HistoryColumns;

export function stateToStatusRow(s: JobState): StatusRow {
  return {
    id: s.id, type: s.type, status: s.status, queue: s.queue, priority: s.priority, attempts: s.attempts, max_retry: s.maxRetry,
    actor_id: s.actorId, tenant_id: s.tenantId, group_key: s.groupKey, trace_id: s.traceId, error: s.error,
    result_url: s.resultUrl, result_mime: s.resultMime, output: s.output === null ? null : JSON.stringify(s.output),
    run_at: s.runAt, created_at: s.createdAt, started_at: s.startedAt, completed_at: s.completedAt, updated_at: s.updatedAt,
  };
}
