// Dead-lettering: a job that dies is handed to the worker's DLQ type for alerting or
// inspection, in the same transaction that marks it dead, so the hand-off cannot be lost.
// The payload carries the seeds' names (`original_type`, `original_id`, `original_payload`,
// `error`), so a DLQ handler written for them works unchanged, and ours beside them.
import type { Job, NewJob } from "./types.ts";

export interface DeadLetterPayload {
  /** The seeds' names. */
  original_type: string;
  original_id: string;
  original_payload: unknown;
  /** Ours (the same values under the names this payload had first). */
  job_id: string;
  type: string;
  payload: unknown;
  attempts: number;
  error: string;
  actor_id: string | null;
  tenant_id: string | null;
}

/** The job to enqueue for a dead one, or null when the dead job is itself a dead letter (no loops). */
export function deadLetterFor(job: Job, error: string, deadLetterType: string | null | undefined): NewJob | null {
  if (!deadLetterType || job.type === deadLetterType) return null;
  const payload: DeadLetterPayload = {
    original_type: job.type,
    original_id: job.id,
    original_payload: job.payload,
    job_id: job.id,
    type: job.type,
    payload: job.payload,
    attempts: job.attempt,
    error,
    actor_id: job.actorId,
    tenant_id: job.tenantId,
  };
  return { type: deadLetterType, payload, actorId: job.actorId, tenantId: job.tenantId, traceId: job.traceId };
}
