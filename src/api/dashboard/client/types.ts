// The API answers the dashboard reads (the wire's snake_case; /api/admin/jobs/:id is camelCase
// with epoch milliseconds). Kept by hand beside the server's schemas (src/api/schemas.ts).

export type State = "enqueued" | "running" | "succeeded" | "failed" | "dead" | "cancelled";
export const STATES: State[] = ["enqueued", "running", "succeeded", "failed", "dead", "cancelled"];

export interface StatusRow {
  id: string;
  type: string;
  status: State;
  queue?: string;
  attempts: number;
  max_retry: number;
  actor_id: string | null;
  group_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface ListMeta {
  total: number;
  page: number;
  pages: number;
  total_is_lower_bound?: boolean;
}

export interface Attempt {
  attempt: number;
  startedAt: number | null;
  finishedAt: number | null;
  durationMs: number | null;
  outcome: string;
  error: string | null;
  stack: string | null;
  worker: string | null;
}

export interface AdminJob {
  id: string;
  type: string;
  status: State;
  queue?: string;
  payload: unknown;
  priority: number;
  attempts: number;
  maxRetry: number;
  actorId: string | null;
  groupKey: string | null;
  traceId: string | null;
  error: string | null;
  resultUrl: string | null;
  output: unknown;
  runAt: number;
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  attemptsHistory?: Attempt[];
}

export interface Queue {
  name: string;
  paused: boolean;
  concurrency: number | null;
  running: number;
  counts: Record<State, number>;
  rate_limit: { limit: number; interval_ms?: number; period_ms?: number; [k: string]: unknown } | null;
}

export interface Overview {
  counts: { status: State; type: string; n: number }[];
  oldest_waiting_since: string | null;
  activity: { minute: string; succeeded: number; failed: number; dead: number }[];
  activity_by_queue?: { queue: string; succeeded: number; failed: number; dead: number }[];
}

export interface User {
  id: string;
  name: string;
  email: string;
}

export interface Subscription {
  id: string;
  url: string;
  pattern: string;
  format: "standard" | "maniflex" | null;
  active: boolean | null;
  secret_hint?: string | null;
}

export interface Delivery {
  id: string;
  status: State;
  attempts: number;
  max_retry: number;
  subscription: string | null;
  event_type: string | null;
  last_http_status: number | null;
  error: string | null;
  updated_at: string;
}

export interface Schedule {
  name: string;
  schedule: string;
  timezone: string | null;
  type: string;
  paused: boolean;
  next_fire_at: string | null;
  last_fired_at: string | null;
}
