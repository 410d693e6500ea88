// The event bus on NATS (the `nats` package): the same EventBus, across processes. Our
// patterns are NATS's own subject wildcards (`*` one token, `>` the rest), so subscriptions
// map one to one (under a subject prefix, "backroom." by default). Core NATS is at-most-once:
// a subscriber that is down misses what is published meanwhile. With `stream` set, events are
// also kept in a JetStream stream, and `subscribe(…, { durable: "name" })` reads through a
// durable consumer: what was published while the subscriber was away is delivered when it
// comes back, and each event is acknowledged only after the handler is done with it — one
// that was queued or in hand when the subscriber stopped or died is delivered again once
// `ackWaitMs` has passed (at least once). While the subscriber lives, the events it holds are
// kept from redelivery however slow it is, and it holds at most 1,000 at a time.
// NATS takes at most max_payload bytes in one message (1 MiB unless the server is configured
// otherwise), where Redis and RabbitMQ carry events of many megabytes: a larger event is refused
// at publish with EventTooLargeError, never kept as if NATS were away (it would be re-sent
// forever and hold back every event behind it).
// While NATS is out of reach, publishing rejects at once: `serve` keeps events in the durable
// outbox in front of this bus (outbox-bus.ts), which sends them once NATS is back and counts
// one as delivered only after flush() (a PONG from the server; JetStream's own acknowledgement).
import { AckPolicy, connect, DeliverPolicy, ErrorCode, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection, type NatsError } from "nats";
import { jsonLogger, type Logger } from "../log.ts";
import { type EventBus, type EventHandler, EventTooLargeError } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { MAX_IN_HAND, SubscriberQueue } from "./subscriber-queue.ts";

export interface NatsBusOptions {
  logger?: Logger;
  name?: string;
  /** Subjects are `<prefix><event type>`. Default "backroom.". */
  subjectPrefix?: string;
  /** A JetStream stream to keep events in (created if missing); enables durable subscriptions. */
  stream?: string;
  /** How long JetStream waits for a durable subscriber's acknowledgement before delivering again. Default 30 s. */
  ackWaitMs?: number;
}

/** JetStream's answer to a message over the stream's max_msg_size. */
const JS_MESSAGE_TOO_LARGE = 10054;
const ADVICE = "keep events small and put large data behind a URL";

interface Subscribed {
  stop(): void;
  queue: SubscriberQueue;
  ready: Promise<unknown>;
}

const UTF8 = new TextEncoder();

export class NatsBus implements EventBus {
  private readonly subscriptions = new Set<Subscribed>();
  /** False from a disconnect until the client is back: the client's own buffer loses what is published then. */
  private connected = true;
  /** The server's max_payload, from its INFO; kept while disconnected (the client forgets it then). */
  private maxPayload: number;
  /** Connections lost so far, and how many had been lost at the first publish no flush has
   * covered yet (null: none): a PONG on a new connection says nothing of the old one's buffer. */
  private disconnects = 0;
  private unflushedSince: number | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
    private readonly prefix: string,
    private readonly jetstream: { js: JetStreamClient; jsm: JetStreamManager; stream: string; ackWaitMs: number; maxMsgSize: number } | null,
  ) {
    this.maxPayload = nc.info?.max_payload ?? Infinity;
    void this.watchConnection();
  }

  static async connect(url: string, options: NatsBusOptions = {}): Promise<NatsBus> {
    // Reconnect for as long as it takes (the client's default gives up after 10 tries): a till
    // outlives any broker restart.
    const nc = await connect({ servers: url, name: options.name ?? "backroom", maxReconnectAttempts: -1, reconnectTimeWait: 1_000 });
    const prefix = options.subjectPrefix ?? "backroom.";
    let jetstream = null;
    if (options.stream) {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: options.stream, subjects: [`${prefix}>`] }).catch(async (error: Error) => {
        if (!/already in use|exists/i.test(error.message)) throw error;
      });
      const { config } = await jsm.streams.info(options.stream);
      jetstream = { js: nc.jetstream(), jsm, stream: options.stream, ackWaitMs: options.ackWaitMs ?? 30_000, maxMsgSize: config.max_msg_size };
    }
    return new NatsBus(nc, options.logger ?? jsonLogger(), prefix, jetstream);
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  /**
   * The largest event, as the bytes of its JSON, this bus can publish (for a ULID id): the
   * server's max_payload, less JetStream's header, within the stream's max_msg_size.
   */
  get maxEventBytes(): number {
    return this.limitFor("01J00000000000000000000000").bytes;
  }

  /**
   * Publishes now; rejects while NATS is out of reach (the outbox in front keeps the event).
   * Rejects with EventTooLargeError, at once and even while NATS is away, for an event over the
   * server's max_payload (or the stream's max_msg_size).
   */
  publishEvent(event: Event): Promise<void> {
    return this.publishEventJson(event, JSON.stringify(event));
  }

  /** Several events in order (the outbox relay's batch): on core NATS one loop into the client's
   * buffer with no promise per event, stopping at the first that fails. */
  async publishEvents(events: readonly Event[], jsons?: readonly string[]): Promise<void> {
    if (this.jetstream) {
      await Promise.all(events.map((event, i) => this.publishEventJson(event, jsons?.[i] ?? JSON.stringify(event))));
      return;
    }
    for (const [i, event] of events.entries()) {
      const body = this.outgoing(event, jsons?.[i] ?? JSON.stringify(event));
      try {
        this.nc.publish(this.prefix + event.type, body);
      } catch (error) {
        throw await this.tooLargeOr(error as NatsError, event, body);
      }
    }
  }

  /** publishEvent with the event's JSON already made (the outbox's stored row). */
  async publishEventJson(event: Event, json: string): Promise<void> {
    const body = this.outgoing(event, json);
    const subject = this.prefix + event.type;
    try {
      // JetStream de-duplicates by msgID: an event sent twice around a reconnect is stored once.
      if (this.jetstream) await this.jetstream.js.publish(subject, body, { msgID: event.id });
      else this.nc.publish(subject, body);
    } catch (error) {
      throw await this.tooLargeOr(error as NatsError, event, body);
    }
  }

  /** The event's bytes, once it is known to fit and the connection to be up; from here it counts
   * as published for flush(). */
  private outgoing(event: Event, json: string): Uint8Array {
    const body = UTF8.encode(json);
    this.checkSize(event, body);
    if (!this.connected) throw new Error("not connected to NATS");
    this.unflushedSince ??= this.disconnects;
    return body;
  }

  /** What limits an event with this id, in the bytes of its JSON, and why. */
  private limitFor(id: string): { bytes: number; why: string } {
    const maxPayload = this.nc.info?.max_payload ?? this.maxPayload;
    // NATS counts a message's headers in max_payload; JetStream's carry the event id (msgID).
    const header = this.jetstream ? msgIdHeaderBytes(id) : 0;
    const why = `NATS takes in one message (the server's max_payload, 1 MiB unless configured; the Redis and RabbitMQ buses carry events of several MiB): raise max_payload in the NATS server's configuration (e.g. "max_payload: 8MB"), or ${ADVICE}`;
    const limit = { bytes: maxPayload - header, why };
    const stream = this.jetstream;
    if (stream && stream.maxMsgSize >= 0 && stream.maxMsgSize - header < limit.bytes) {
      return { bytes: stream.maxMsgSize - header, why: `JetStream stream ${stream.stream} takes (its max_msg_size): raise it, or ${ADVICE}` };
    }
    return limit;
  }

  private checkSize(event: Event, body: Uint8Array): void {
    const limit = this.limitFor(event.id);
    if (body.length > limit.bytes) throw new EventTooLargeError(event.type, event.id, body.length, limit.bytes, limit.why);
  }

  /** The client's or JetStream's refusal of a message too large, as EventTooLargeError; any other error as it is. */
  private async tooLargeOr(error: NatsError, event: Event, body: Uint8Array): Promise<Error> {
    const stream = this.jetstream;
    if (stream && error.api_error?.err_code === JS_MESSAGE_TOO_LARGE) {
      // The stream's max_msg_size was lowered since we read it (JetStream counts headers and body, as we do).
      stream.maxMsgSize = await stream.jsm.streams.info(stream.stream).then((info) => info.config.max_msg_size, () => stream.maxMsgSize);
      const limit = this.limitFor(event.id);
      return new EventTooLargeError(event.type, event.id, body.length, limit.bytes, limit.why);
    }
    if (error.code === ErrorCode.MaxPayloadExceeded) {
      const limit = this.limitFor(event.id);
      return new EventTooLargeError(event.type, event.id, body.length, limit.bytes, limit.why);
    }
    return error;
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        this.disconnects++;
        this.logger.log("warn", "lost the NATS connection; reconnecting", {});
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.maxPayload = this.nc.info?.max_payload ?? this.maxPayload;
        this.logger.log("info", "NATS connection back", {});
      }
    }
  }

  subscribe(pattern: string, handler: EventHandler, options: { durable?: string } = {}): () => void {
    compilePattern(pattern); // the same validation as every bus
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    if (options.durable) return this.subscribeDurable(pattern, options.durable, queue);
    const subscription = this.nc.subscribe(this.prefix + pattern, {
      callback: (error, message) => {
        if (error) return this.logger.log("error", "NATS subscription failed", { pattern, error: error.message });
        try {
          queue.push(JSON.parse(message.string()) as Event);
        } catch (e) {
          this.logger.log("warn", "ignored a NATS message that is not a Backroom event", { subject: message.subject, error: (e as Error).message });
        }
      },
    });
    return this.track({ stop: () => subscription.unsubscribe(), queue, ready: this.nc.flush() });
  }

  async ready(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.ready));
  }

  /** Resolves once the server has read everything published since the last flush (a PING
   * answered on the connection they went out on); rejects if the connection was lost meanwhile. */
  async flush(): Promise<void> {
    if (!this.connected) throw new Error("not connected to NATS");
    const since = this.unflushedSince;
    this.unflushedSince = null;
    await this.nc.flush();
    if (since !== null && since !== this.disconnects) throw new Error("the NATS connection was lost after events were published: they may not have reached the server");
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions) {
      s.stop();
      s.queue.close();
    }
    this.subscriptions.clear();
    await this.nc.drain();
  }

  private subscribeDurable(pattern: string, durable: string, queue: SubscriberQueue): () => void {
    const jetstream = this.jetstream;
    if (!jetstream) throw new Error("durable NATS subscriptions need a JetStream stream: NatsBus.connect(url, { stream })");
    let stopMessages: (() => void) | null = null;
    let stopped = false;
    const ready = (async () => {
      await jetstream.jsm.consumers
        .add(jetstream.stream, {
          durable_name: durable,
          filter_subject: this.prefix + pattern,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.New,
          ack_wait: jetstream.ackWaitMs * 1_000_000, // nanoseconds
          // No more unacknowledged at once than the subscriber's queue holds, so it never has
          // to drop one: the rest wait in the stream.
          max_ack_pending: MAX_IN_HAND,
        })
        .catch(async (error: Error) => {
          if (!/already|exists/i.test(error.message)) throw error;
          // A consumer from an earlier run: bring its limits up to this one's.
          await jetstream.jsm.consumers.update(jetstream.stream, durable, { ack_wait: jetstream.ackWaitMs * 1_000_000, max_ack_pending: MAX_IN_HAND });
        });
      const consumer = await jetstream.js.consumers.get(jetstream.stream, durable);
      const messages = await consumer.consume({ max_messages: MAX_IN_HAND });
      // Events wait in the subscriber's queue before their turn. Tell JetStream they are being
      // worked on, or a slow subscriber would get them all again after ackWait. Stopping ends
      // this, so what a stopped (or dead) subscriber held is delivered again.
      const held = new Set<JsMsg>();
      const heartbeat = setInterval(() => {
        for (const message of held) message.working();
      }, jetstream.ackWaitMs / 3);
      stopMessages = () => (clearInterval(heartbeat), held.clear(), messages.stop());
      if (stopped) stopMessages();
      void (async () => {
        for await (const message of messages) {
          try {
            const event = JSON.parse(message.string()) as Event;
            held.add(message);
            queue.push(event, () => (held.delete(message), message.ack()));
          } catch (error) {
            this.logger.log("warn", "ignored a JetStream message that is not a Backroom event", { error: (error as Error).message });
            message.ack();
          }
        }
      })();
    })();
    ready.catch((error: Error) => this.logger.log("error", "could not subscribe on JetStream", { pattern, durable, error: error.message }));
    return this.track({ stop: () => ((stopped = true), stopMessages?.()), queue, ready });
  }

  private track(entry: Subscribed): () => void {
    this.subscriptions.add(entry);
    return () => {
      this.subscriptions.delete(entry);
      entry.stop();
      entry.queue.close();
    };
  }
}

/** The bytes of the header a JetStream publish carries, as the client encodes it (pinned by the exact-limit test). */
function msgIdHeaderBytes(id: string): number {
  return Buffer.byteLength(`NATS/1.0\r\nNats-Msg-Id: ${id}\r\n\r\n`);
}
