// The seam between publishers and an event engine (in-process here; Redis, NATS, RabbitMQ
// later), exercised by one conformance suite.
import type { Event, EventMeta } from "./event.ts";

export type EventHandler = (event: Event) => void | Promise<void>;

export interface EventBus {
  /** Builds an envelope for `type` and `data` and delivers it to every matching subscriber. */
  publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>>;
  /** Delivers an envelope built earlier (its id kept: webhooks and realtime share it). */
  publishEvent(event: Event): Promise<void>;
  /** Calls `handler` for every event whose type matches `pattern`; returns the unsubscribe. */
  subscribe(pattern: string, handler: EventHandler): () => void;
  /** Resolves once every subscription made so far receives events (engines that bind
   * subscriptions over the network; in-process ones are ready at once). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The broker will never take this event, however often it is sent: it is larger than the
 * broker's limit for one message (NATS's max_payload, 1 MiB by default). Not an outage: the
 * publisher is told, the event is not kept for re-sending, and later events go on.
 */
export class EventTooLargeError extends Error {
  override name = "EventTooLargeError";
  readonly code = "EVENT_TOO_LARGE";
  constructor(
    readonly eventType: string,
    readonly eventId: string,
    /** The size of the event's JSON, in bytes. */
    readonly bytes: number,
    /** The most the event's JSON may have on this broker (its limit, less what it adds: headers). */
    readonly limit: number,
    /** Which limit, and what to do about it. */
    why: string,
  ) {
    super(`event ${eventType} (${eventId}) is ${bytes} bytes, over the ${limit} bytes ${why}`);
  }
}
