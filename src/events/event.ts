// The event envelope: CloudEvents 1.0 field names, JSON data. Extensions (lower-case, as
// CloudEvents requires): traceparent (W3C trace context), actorid and tenantid (whose event it
// is), visibility (who may see it over realtime: "all", "owner" — the actor — or "admin").
import { monotonicFactory } from "../ulid.ts";

export type Visibility = "all" | "owner" | "admin";

export interface Event<Data = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  datacontenttype: "application/json";
  subject?: string;
  traceparent?: string;
  actorid?: string;
  tenantid?: string;
  visibility: Visibility;
  data: Data;
}

export interface EventMeta {
  id?: string;
  source?: string;
  subject?: string;
  traceparent?: string | null;
  actorId?: string | null;
  tenantId?: string | null;
  visibility?: Visibility;
  time?: number;
}

export const DEFAULT_SOURCE = "backroom";
const nextId = monotonicFactory();
const EVENT_TYPE = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i;

export function createEvent<Data>(type: string, data: Data, meta: EventMeta = {}): Event<Data> {
  if (!EVENT_TYPE.test(type)) throw new TypeError(`event type must be dot-separated words, got "${type}"`);
  const time = meta.time ?? Date.now();
  const event: Event<Data> = {
    specversion: "1.0",
    id: meta.id ?? nextId(time),
    source: meta.source ?? DEFAULT_SOURCE,
    type,
    time: new Date(time).toISOString(),
    datacontenttype: "application/json",
    visibility: meta.visibility ?? (meta.actorId ? "owner" : "admin"),
    data,
  };
  if (meta.subject) event.subject = meta.subject;
  if (meta.traceparent) event.traceparent = meta.traceparent;
  if (meta.actorId) event.actorid = meta.actorId;
  if (meta.tenantId) event.tenantid = meta.tenantId;
  return event;
}
