// Validation and defaults for an enqueued job, shared by every adapter so that bad input is
// refused the same way everywhere — before anything is written.
import { CodedError } from "../errors.ts";
import { DEFAULT_MAX_RETRY, DEFAULT_QUEUE, QUEUE_NAME, type NewJob } from "./types.ts";

/** A 422 when it reaches the API (an action that enqueued bad input). */
export class InvalidJobError extends CodedError {
  override name = "InvalidJobError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    const text = `invalid job: ${field} ${message}`;
    super(422, "VALIDATION_ERROR", text, [{ field, message: text }]);
  }
}

/** A validated job ready to store; payload/headers already serialised. */
export interface JobRecord {
  id: string;
  type: string;
  payload: string;
  headers: string | null;
  priority: number;
  maxRetry: number;
  runAt: number;
  groupKey: string | null;
  uniqueKey: string | null;
  traceId: string | null;
  actorId: string | null;
  tenantId: string | null;
  timeoutMs: number | null;
  queue: string;
  createdAt: number;
}

export function toJobRecord(job: NewJob, id: string, now: number): JobRecord {
  if (typeof job !== "object" || job === null) throw new InvalidJobError("job", "must be an object");
  if (typeof job.type !== "string" || job.type.trim() === "") throw new InvalidJobError("type", "must be a non-empty string");
  const maxRetry = job.maxRetry ?? DEFAULT_MAX_RETRY;
  if (!Number.isInteger(maxRetry) || maxRetry < 1) throw new InvalidJobError("maxRetry", "must be an integer ≥ 1");
  const priority = job.priority ?? 0;
  if (!Number.isInteger(priority)) throw new InvalidJobError("priority", "must be an integer");
  const timeoutMs = job.timeoutMs ?? null;
  if (timeoutMs !== null && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new InvalidJobError("timeoutMs", "must be a positive number");
  const notBefore = job.notBefore instanceof Date ? job.notBefore.getTime() : job.notBefore;
  if (notBefore !== undefined && !Number.isFinite(notBefore)) throw new InvalidJobError("notBefore", "must be a valid time");
  const queue = job.queue ?? DEFAULT_QUEUE;
  if (job.queue !== undefined && (typeof queue !== "string" || !QUEUE_NAME.test(queue))) throw new InvalidJobError("queue", "must be 1–64 of a-z 0-9 _ . - starting with a letter or digit");
  return {
    id,
    type: job.type,
    payload: serialise("payload", job.payload ?? null),
    headers: job.headers && Object.keys(job.headers).length > 0 ? serialise("headers", job.headers) : null,
    priority,
    maxRetry,
    runAt: notBefore ?? now,
    groupKey: optionalString("groupKey", job.groupKey),
    uniqueKey: optionalString("uniqueKey", job.uniqueKey),
    traceId: optionalString("traceId", job.traceId),
    actorId: optionalString("actorId", job.actorId),
    tenantId: optionalString("tenantId", job.tenantId),
    timeoutMs,
    queue,
    createdAt: now,
  };
}

function serialise(field: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidJobError(field, `is not JSON-serialisable (${(error as Error).message})`);
  }
  if (text === undefined) throw new InvalidJobError(field, "is not JSON-serialisable");
  return text;
}

function optionalString(field: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value === "") throw new InvalidJobError(field, "must be a non-empty string");
  return value;
}
