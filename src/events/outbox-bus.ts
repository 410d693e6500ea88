// A network bus behind the durable outbox (outbox.ts): publishing writes the event to the
// database file — in the caller's transaction when one is open — and the relay here hands the
// events to the broker in order, retrying with backoff while it is away, and after a restart
// goes on from whatever the file still holds. Subscriptions go straight to the network bus.
//
// At least once, never silently dropped: an event leaves the outbox only once the broker has
// acknowledged it (the adapter's publish resolved, then its flush: a PONG from NATS, a
// publisher confirm from RabbitMQ; Redis's XADD and Kafka's produce answer themselves). The
// relay publishes each commit's events as soon as it is committed, but asks for that
// confirmation lazily — one flush for everything published since the last one, before each
// delete (once a second), at close, or once a batch's worth waits unconfirmed — so that a
// commit costs no round trip of its own. A failed publish or flush sends the relay back to the
// last confirmed event: everything after it goes again, in order (a store that cannot be read
// past unconfirmed rows — PostgreSQL's — is confirmed batch by batch instead). The store hears
// of each acknowledgement at once (the file's ring reuses those slots), but records it lazily —
// once a second, or at close: the file's high-water mark, PostgreSQL's delete — so an order
// costs no second commit; a crash re-sends at most that second's events, each with its
// CloudEvents `id` for consumers to de-duplicate. The one event ever removed unsent is one the
// broker refuses for good (EventTooLargeError), and that is logged as an error.
//
// The outbox is bounded by a warning, not by dropping: past `warnEvents` waiting events or a
// `warnAgeMs` old oldest one, a warning is logged (again each minute while it lasts), and
// /metrics shows backroom_event_outbox_events and …_oldest_age_seconds. The disk is the limit.
import { errorMessage, type Logger } from "../log.ts";
import { type EventBus, type EventHandler, EventTooLargeError } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { EventOutbox } from "./outbox.ts";
import type { OutboxStore } from "./outbox-store.ts";
import { Db } from "../db/open.ts";

/** What the relay needs of a network bus beyond EventBus; all optional. */
export interface RelayTarget extends EventBus {
  subscribe(pattern: string, handler: EventHandler, options?: object): () => void;
  /** Resolves once everything published so far has reached the broker; rejects if it may not
   * have — also when the connection was lost and made again since the last flush, since what
   * was published on the lost one is not covered by a confirmation on the new one. */
  flush?(): Promise<void>;
  /** Publishes several events in order as one request (Kafka: one produce), all or nothing;
   * `jsons[i]`, when given, is events[i]'s JSON already made (the outbox's stored row). */
  publishEvents?(events: readonly Event[], jsons?: readonly string[]): Promise<void>;
  /** publishEvent with the event's JSON already made: the relay sends what it stored. */
  publishEventJson?(event: Event, json: string): Promise<void>;
  /** The most bytes an event's JSON may have, when the broker has said. */
  readonly maxEventBytes?: number;
}

export interface OutboxBusOptions {
  logger: Logger;
  /** The broker's name, for the log ("NATS", "Kafka"). */
  engine: string;
  /** Events handed to the broker per pass, and the most published before a confirmation is
   * awaited. Default 500. */
  batchSize?: number;
  /** Warn when more events than this wait. Default 100,000. */
  warnEvents?: number;
  /** Warn when the oldest waiting event is older than this. Default 1 hour. */
  warnAgeMs?: number;
  /** How often published events are confirmed and the acknowledged ones deleted from the file. Default 1 s. */
  deleteEveryMs?: number;
  /** The inner bus is another OutboxBus's too (serve's job events on PostgreSQL): close() leaves it open. */
  keepInnerOpen?: boolean;
  now?: () => number;
}

const FLUSH_TIMEOUT_MS = 5_000;
const MAX_RETRY_MS = 2_000;

export class OutboxBus implements EventBus {
  readonly outbox: OutboxStore;
  private readonly logger: Logger;
  private readonly engine: string;
  private readonly batchSize: number;
  private readonly now: () => number;
  /** Events up to this seq were handed to the broker; those after sentUpTo are not confirmed yet. */
  private publishedUpTo = 0;
  /** Events up to this seq reached the broker (in this process's life). */
  private sentUpTo = 0;
  /** …and up to this one are deleted from the file. */
  private deletedUpTo = 0;
  /** Counts the relay's returns to sentUpTo: a publish or flush begun before one no longer counts. */
  private rewinds = 0;
  private confirming: Promise<void> | null = null;
  private deleting: Promise<void> | null = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly relay: Promise<void>;
  private readonly deleteTimer: Timer;
  private readonly stopListening: () => void;
  private lastWarning = 0;
  private away = false;

  /** `store`: the database file (its event_outbox table), or another OutboxStore (postgres-outbox.ts). */
  constructor(
    store: Db | OutboxStore,
    private readonly inner: RelayTarget,
    private readonly options: OutboxBusOptions,
  ) {
    this.logger = options.logger;
    this.engine = options.engine;
    this.batchSize = options.batchSize ?? 500;
    this.now = options.now ?? Date.now;
    this.outbox = store instanceof Db ? new EventOutbox(store, this.now) : store;
    this.stopListening = this.outbox.onCommitted(() => this.wake?.());
    this.deleteTimer = setInterval(() => void this.deleteSent(), options.deleteEveryMs ?? 1_000);
    this.deleteTimer.unref?.();
    this.relay = this.relayLoop();
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  /** Writes the event to the outbox (joining an open transaction); resolves once it is durable.
   * Rejects with EventTooLargeError for an event over the broker's known limit: never kept. */
  publishEvent(event: Event): Promise<void> {
    const json = JSON.stringify(event);
    const tooLarge = this.tooLarge(event, json);
    if (tooLarge) return Promise.reject(tooLarge);
    return this.outbox.add(event, json);
  }

  /**
   * For a write's own transaction: keeps the event with the write, synchronously. Never throws
   * into that transaction — an order is not refused for its event's size; that event is logged
   * instead, as the broker's refusal would have been.
   */
  keep(event: Event): void {
    const json = JSON.stringify(event);
    const tooLarge = this.tooLarge(event, json);
    if (tooLarge) return this.logger.log("error", `${this.engine} would refuse this event: not kept`, { type: event.type, id: event.id, error: tooLarge.message });
    this.outbox.add(event, json).catch((error) => this.logger.log("error", "could not keep an event in the outbox", { type: event.type, id: event.id, error: errorMessage(error) }));
  }

  subscribe(pattern: string, handler: EventHandler, options?: object): () => void {
    return this.inner.subscribe(pattern, handler, options);
  }

  async ready(): Promise<void> {
    await this.inner.ready?.();
  }

  get maxEventBytes(): number | undefined {
    return this.inner.maxEventBytes;
  }

  /** Stops the relay (what is unsent stays in the file for the next start) and closes the bus. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.stopListening();
    clearInterval(this.deleteTimer);
    await this.relay;
    await this.deleting; // a timed one, which may have confirmed less than the relay published
    await this.deleteSent();
    await this.outbox.close?.();
    if (!this.options.keepInnerOpen) await this.inner.close();
  }

  private tooLarge(event: Event, json: string): EventTooLargeError | null {
    const limit = this.inner.maxEventBytes;
    if (limit === undefined || !Number.isFinite(limit) || json.length * 3 <= limit) return null; // UTF-8 takes at most 3 bytes per UTF-16 unit
    const bytes = Buffer.byteLength(json);
    return bytes > limit ? new EventTooLargeError(event.type, event.id, bytes, limit, `${this.engine} takes in one message`) : null;
  }

  /** Confirms what was published, then deletes what the broker acknowledged (one range delete); one at a time. */
  private deleteSent(): Promise<void> {
    this.deleting ??= this.confirmAndDelete().finally(() => (this.deleting = null));
    return this.deleting;
  }

  private async confirmAndDelete(): Promise<void> {
    await this.confirm();
    const upTo = this.sentUpTo;
    if (upTo <= this.deletedUpTo) return;
    this.deletedUpTo = upTo;
    await this.outbox.deleteUpTo(upTo).catch((error) => this.logger.log("warn", "could not delete sent events from the outbox; they will be sent again after a restart", { error: errorMessage(error) }));
  }

  private async relayLoop(): Promise<void> {
    let retryMs = 0;
    let unreadable = false;
    while (!this.closed) {
      let rows;
      try {
        // The file's store answers at once: no await, so no commit can slip in between its
        // answer and the pause below (its wake-up would find no one waiting).
        const found = this.outbox.next(this.batchSize, this.publishedUpTo);
        rows = found instanceof Promise ? await found : found;
      } catch (error) {
        // A store on a server (PostgreSQL) may be out of reach too: its events wait there.
        if (!unreadable) this.logger.log("warn", "could not read the event outbox; retrying until it can", { error: errorMessage(error) });
        unreadable = true;
        retryMs = Math.min(Math.max(retryMs * 2, 100), MAX_RETRY_MS);
        await this.pause(retryMs);
        continue;
      }
      unreadable = false;
      if (rows.length === 0) {
        await this.pause(null);
        continue;
      }
      const rewinds = this.rewinds;
      const { done, error } = await this.send(rows.map((r) => r.event), rows.map((r) => r.json));
      if (rewinds !== this.rewinds) continue; // a failed confirmation sent the relay back meanwhile
      if (done > 0) this.published(rows[done - 1]!.seq);
      if (done === rows.length) {
        retryMs = 0;
        // Bounds what the broker holds unconfirmed (and what a lost connection sends again);
        // a relay catching up after an outage confirms each batch, as it did before. A store
        // that cannot be read past unconfirmed rows is confirmed batch by batch.
        if (!this.outbox.rewind || this.publishedUpTo - this.sentUpTo >= this.batchSize) await this.confirm();
        continue;
      }
      this.rewind(error);
      await this.warnIfBacklogged().catch(() => {}); // only a warning: the outbox's server may be away too
      retryMs = Math.min(Math.max(retryMs * 2, 100), MAX_RETRY_MS);
      await this.pause(retryMs);
    }
  }

  /** The broker took the events up to `seq`; without a flush, its answer was the acknowledgement. */
  private published(seq: number): void {
    this.publishedUpTo = seq;
    if (!this.inner.flush) this.acknowledged(seq);
  }

  private acknowledged(seq: number): void {
    if (seq > this.sentUpTo) this.sentUpTo = seq;
    this.outbox.acknowledged?.(this.sentUpTo);
    if (this.away) this.logger.log("info", `${this.engine} back: events kept meanwhile are delivered`, {});
    this.away = false;
  }

  /**
   * Waits for the broker to confirm everything published so far: one flush covers it all, and
   * one runs at a time. A failure sends the relay back to the last confirmed event.
   */
  private async confirm(): Promise<void> {
    while (this.confirming) await this.confirming;
    if (!this.inner.flush || this.publishedUpTo <= this.sentUpTo) return;
    const upTo = this.publishedUpTo;
    const rewinds = this.rewinds;
    this.confirming = withTimeout(this.inner.flush(), FLUSH_TIMEOUT_MS, `${this.engine} did not confirm in ${FLUSH_TIMEOUT_MS} ms`).then(
      () => void (rewinds === this.rewinds && this.acknowledged(upTo)),
      (error: unknown) => void (rewinds === this.rewinds && this.rewind(error)),
    );
    await this.confirming;
    this.confirming = null;
  }

  /** What was published after the last confirmed event may not have arrived: send it all again,
   * in order (the store reads it again: the file's outbox from its table, past its cache). */
  private rewind(error: unknown): void {
    if (!this.away) this.logger.log("warn", `${this.engine} out of reach: events wait in the outbox until it is back`, { error: errorMessage(error) });
    this.away = true;
    this.rewinds++;
    if (this.publishedUpTo > this.sentUpTo) this.outbox.rewind?.();
    this.publishedUpTo = this.sentUpTo;
    this.wake?.();
  }

  /**
   * Hands the events to the broker in order. `done`: how many of them, from the first, the
   * broker acknowledged or refused for good (dropped, and logged); the rest are tried again.
   */
  private async send(events: readonly Event[], jsons?: readonly string[]): Promise<{ done: number; error: unknown }> {
    try {
      if (this.inner.publishEvents) {
        // Behind the DeferredBus that `serve` puts in front, NATS's publish only fills a socket
        // buffer: these count as sent once a later flush confirms them (confirm()).
        await this.inner.publishEvents(events, jsons);
        return { done: events.length, error: null };
      }
      // Pipelined, in order on one connection; the first failure ends what counts as sent.
      const inner = this.inner;
      const publish = (event: Event, i: number) => (jsons && inner.publishEventJson ? inner.publishEventJson(event, jsons[i]!) : inner.publishEvent(event));
      const results = await Promise.allSettled(events.map(publish));
      let done = 0;
      let error: unknown = null;
      for (const result of results) {
        if (result.status === "rejected") {
          if (!(result.reason instanceof EventTooLargeError)) {
            error = result.reason;
            break;
          }
          this.dropTooLarge(result.reason);
        }
        done++;
      }
      return { done, error };
    } catch (error) {
      if (error instanceof EventTooLargeError && events.length === 1) {
        this.dropTooLarge(error);
        return { done: 1, error: null };
      }
      if (error instanceof EventTooLargeError) return this.sendOneByOne(events);
      return { done: 0, error };
    }
  }

  /** A batch the broker refused for one event's size: each on its own, to find and drop that one. */
  private async sendOneByOne(events: readonly Event[]): Promise<{ done: number; error: unknown }> {
    let done = 0;
    for (const event of events) {
      const { done: one, error } = await this.send([event]); // serialized again: rare, and the sizes are what is in question
      if (one === 0) return { done, error };
      done++;
    }
    return { done, error: null };
  }

  /** Kept before the broker's limit was known: its publisher has long been answered, so the
   * log is the only one left to tell. Removed, or it would hold back every event behind it. */
  private dropTooLarge(error: EventTooLargeError): void {
    this.logger.log("error", `${this.engine} refuses an event from the outbox: dropped`, { type: error.eventType, id: error.eventId, error: error.message });
  }

  private pause(ms: number | null): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = ms === null ? null : setTimeout(done, ms);
      function done() {
        if (timer) clearTimeout(timer);
        resolve();
      }
      this.wake = () => ((this.wake = null), done());
    });
  }

  private async warnIfBacklogged(): Promise<void> {
    const now = this.now();
    if (now - this.lastWarning < 60_000) return;
    const { warnEvents = 100_000, warnAgeMs = 3_600_000 } = this.options;
    const { n, oldestCreatedAt } = await this.outbox.waitingAfter(this.sentUpTo);
    const ageMs = oldestCreatedAt === null ? 0 : now - oldestCreatedAt;
    if (n <= warnEvents && ageMs <= warnAgeMs) return;
    this.lastWarning = now;
    this.logger.log("warn", `${this.engine} away too long: the event outbox grows (nothing is dropped; it is bounded by the disk)`, { events: n, oldest_age_s: Math.round(ageMs / 1000), warn_events: warnEvents, warn_age_s: warnAgeMs / 1000 });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A bus whose events may be kept in a write's own transaction (an OutboxBus). */
export function keepsEvents(bus: EventBus | null | undefined): bus is OutboxBus {
  return bus instanceof OutboxBus;
}
