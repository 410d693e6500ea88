// Job lifecycle events (the seeds' WorkerConfig.EventBus), published after each transition is
// durable: job.{type}.started | retrying (an attempt failed, a retry is scheduled) | completed |
// failed (TERMINAL: out of attempts, or no handler — as in the seeds, a subscriber to
// `job.*.failed` learns that a job gave up) | requeued (put back by shutdown) — and
// job.{type}.cancelled, published by the cancel route. The names are not the status values:
// the worker's status "failed" (a retry is scheduled) is the event `retrying`, its "dead" the
// event `failed`; `data.status` keeps the status row's value. No `.dead` event: one transition
// is one event, and a subscriber to `job.>` would count every death twice.
import { isServerPath } from "../jobs/internals.ts";
import type { StatusChange, StatusSink } from "../jobs/queue.ts";
import type { JobState, JobStatus } from "../jobs/types.ts";
import type { EventBus } from "./bus.ts";
import { createEvent, type Event } from "./event.ts";
import { keepsEvents } from "./outbox-bus.ts";

const EVENT_FOR: Partial<Record<JobStatus, string>> = {
  running: "started",
  succeeded: "completed",
  failed: "retrying",
  dead: "failed",
  enqueued: "requeued",
  cancelled: "cancelled",
};

export interface JobEventData {
  job_id: string;
  type: string;
  status: JobStatus;
  attempts: number;
  error: string | null;
  result: { output?: unknown; url?: string; mime?: string } | null;
  actor_id: string | null;
  tenant_id: string | null;
}

export function jobEventSink(bus: EventBus): StatusSink {
  // On a network bus the events go to the outbox in the transaction that settles the jobs (the
  // worker calls a transactional sink inside it where the queue lives in the file), so a
  // finished job and its event commit together.
  if (keepsEvents(bus)) {
    return {
      transactional: true,
      record(changes) {
        for (const change of changes) {
          const event = jobEvent(change);
          if (event) bus.keep(event);
        }
      },
    };
  }
  return {
    async record(changes) {
      // One event the broker refuses (EventTooLargeError: a job's large result) must not keep the
      // rest of the batch from going out.
      const refused: Error[] = [];
      for (const change of changes) await publishJobEvent(bus, change).catch((error: Error) => void refused.push(error));
      if (refused.length > 0) throw new AggregateError(refused, `${refused.length} job event(s) not published: ${refused.map((e) => e.message).join("; ")}`);
    },
  };
}

export function publishJobEvent(bus: EventBus, change: StatusChange): Promise<unknown> {
  const event = jobEvent(change);
  return event ? bus.publishEvent(event) : Promise.resolve();
}

/** The event for one transition; null for transitions that have none. */
function jobEvent(change: StatusChange): Event<JobEventData> | null {
  const { job } = change;
  const name = EVENT_FOR[change.status];
  if (!name) return null;
  const data: JobEventData = {
    job_id: job.id, type: job.type, status: change.status, attempts: change.attempts, error: change.error,
    result: change.result, actor_id: job.actorId, tenant_id: job.tenantId,
  };
  return createEvent(`job.${job.type}.${name}`, data, {
    subject: job.id, actorId: job.actorId, tenantId: job.tenantId, traceparent: job.traceId, visibility: job.actorId ? "owner" : "admin", time: change.at,
  });
}

/** For transitions made outside the worker (a cancel over REST). */
export function publishJobStateEvent(bus: EventBus, state: JobState): Promise<unknown> {
  const job = { id: state.id, type: state.type, actorId: state.actorId, tenantId: state.tenantId, traceId: state.traceId } as StatusChange["job"];
  return publishJobEvent(bus, { job, status: state.status, attempts: state.attempts, error: state.error, result: null, at: state.updatedAt });
}

const redacted = new WeakMap<Event, Event>();

/**
 * An event as a non-admin may see it (a realtime client without the admin role, a webhook
 * receiver): a job event loses what REST hides from non-admins — `error`, and a result URL that
 * is a path on the server (src/jobs/internals.ts). Other events are returned as they are. The
 * copy is made once per event however many sockets receive it.
 */
export function eventForNonAdmins(event: Event): Event {
  if (!event.type.startsWith("job.")) return event;
  const data = event.data as Partial<JobEventData> | null;
  if (!data || typeof data !== "object" || typeof data.job_id !== "string") return event;
  const hidesUrl = isServerPath(data.result?.url);
  if (!("error" in data) && !hidesUrl) return event;
  let copy = redacted.get(event);
  if (!copy) {
    const { error: _hidden, ...rest } = data;
    const result = hidesUrl ? (({ url: _path, ...others }) => others)(data.result!) : data.result;
    copy = { ...event, data: { ...rest, result } };
    redacted.set(event, copy);
  }
  return copy;
}
