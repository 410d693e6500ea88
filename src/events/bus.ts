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
