// The event bus on Redis Streams (Bun's built-in Redis client). Events are appended to one
// stream (XADD, trimmed to about 100,000 entries); each subscription reads it on its own
// connection with a blocking XREAD and keeps the events its pattern matches (Redis has no
// dotted-word wildcards, so matching is the same matcher every bus uses). With
// `durable: "<name>"` a subscription reads through a consumer group: what is published while
// the subscriber is down waits in the stream and is delivered when it comes back. Each event
// is acknowledged (XACK) only after the handler is done with it, and the group's one consumer
// has a stable name, so a subscriber that comes back first re-reads what it was given but
// never finished (its pending entries), then new entries: at least once. The stream's
// trimming bounds this: an entry trimmed away before it was read is gone.
// close() (and unsubscribing) must never return while the subscription's reader can still
// take an entry: a read that answers after the subscriber stopped leaves what it took pending
// on the shared consumer name, which a subscriber that has already started never re-reads.
// So stopping unblocks the reader's blocked XREADGROUP (CLIENT UNBLOCK, from the publishing
// connection) and waits for the read to answer; what it took is then pending like any event
// in hand, and the next subscriber to start reads it first.
import { RedisClient } from "bun";
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { MAX_IN_HAND, SubscriberQueue } from "./subscriber-queue.ts";

export interface RedisSubscribeOptions {
  /** A consumer-group name: missed events are kept while this subscriber is away. */
  durable?: string;
}

/** The consumer name within a durable subscription's group: stable, so a restart finds its pending entries. */
const CONSUMER = "subscriber";

type StreamReply = Record<string, [string, string[]][]> | null;

export class RedisStreamsBus implements EventBus {
  private readonly client: RedisClient;
  private readonly subscriptions = new Set<{ stop(): Promise<void>; ready: Promise<void> }>();
  /** Subscriptions unsubscribed whose reader may still take an entry: close() waits for them. */
  private readonly stopping = new Set<Promise<void>>();
  /** Acknowledgements on their way: close() lets them arrive, or finished events come again. */
  private readonly acks = new Set<Promise<unknown>>();

  constructor(
    private readonly url: string,
    private readonly options: { stream?: string; logger?: Logger; maxLength?: number } = {},
  ) {
    // Publishing fails fast while Redis is out of reach — no commands queued in the client, no
    // reconnect loop of its own (command() connects when needed) — and the durable outbox in
    // front (outbox-bus.ts) keeps the events, in order, instead.
    this.client = new RedisClient(url, { enableOfflineQueue: false, autoReconnect: false, connectionTimeout: 2_000 });
  }

  private get stream(): string {
    return this.options.stream ?? "backroom:events";
  }
  private get logger(): Logger {
    return this.options.logger ?? jsonLogger();
  }

  async publish<Data>(type: string, data: Data, meta?: EventMeta): Promise<Event<Data>> {
    const event = createEvent(type, data, meta);
    await this.publishEvent(event);
    return event;
  }

  /** Publishes now (XADD answered: Redis has it); rejects while Redis is out of reach. */
  async publishEvent(event: Event): Promise<void> {
    await this.command("XADD", [this.stream, "MAXLEN", "~", String(this.options.maxLength ?? 100_000), "*", "event", JSON.stringify(event)]);
  }

  /** A command on the shared connection, connecting first if it is not (commands do not wait in the client). */
  private async command(name: string, args: string[]): Promise<unknown> {
    if (!this.client.connected) await this.client.connect();
    return this.client.send(name, args);
  }

  subscribe(pattern: string, handler: EventHandler, options: RedisSubscribeOptions = {}): () => void {
    const matches = compilePattern(pattern);
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    const reader = new RedisClient(this.url);
    // The reader connection's CLIENT ID, which stop() unblocks; a reconnection is a new client.
    let readerId: string | null = null;
    reader.onconnect = () => void (readerId = null);
    let stopped = false;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    /** A pause between retries that stop() cuts short. */
    const pause = (ms: number) => Promise.race([Bun.sleep(ms), woken]);
    const group = options.durable;
    // Acknowledgements of one event-loop turn go out as one XACK (a round trip per event
    // cost a third of the durable subscription's throughput).
    let toAck: string[] = [];
    const flushAcks = () => {
      const ids = toAck;
      toAck = [];
      return this.command("XACK", [this.stream, group!, ...ids]).then(() => {}, () => {});
    };
    const ack = (entryId: string) => {
      if (toAck.push(entryId) === 1) {
        // Settles once the XACK is answered: close() waits for it.
        const flushing = new Promise<void>((resolve) => setImmediate(() => resolve(flushAcks())));
        this.acks.add(flushing);
        void flushing.finally(() => this.acks.delete(flushing));
      }
    };
    const deliver = (reply: StreamReply) => {
      for (const entries of Object.values(reply ?? {})) {
        for (const [entryId, fields] of entries) {
          const settle = group ? () => ack(entryId) : undefined;
          try {
            // A pending entry trimmed from the stream comes back without fields: nothing to deliver.
            const event = fields ? (JSON.parse(fields[fields.indexOf("event") + 1]!) as Event) : null;
            if (event && matches(event.type)) {
              queue.push(event, settle);
              continue;
            }
          } catch (error) {
            this.logger.log("warn", "ignored a stream entry that is not a Backroom event", { error: (error as Error).message });
          }
          settle?.();
        }
      }
    };
    const lastId = (reply: StreamReply, fallback: string) => Object.values(reply ?? {})[0]?.at(-1)?.[0] ?? fallback;
    const start = async (): Promise<string> => {
      if (options.durable) {
        await reader.send("XGROUP", ["CREATE", this.stream, options.durable, "$", "MKSTREAM"]).catch((e: Error) => {
          if (!/BUSYGROUP/.test(String(e))) throw e;
        });
        return "";
      }
      const last = (await reader.send("XREVRANGE", [this.stream, "+", "-", "COUNT", "1"])) as [string, string[]][] | null;
      return last?.[0]?.[0] ?? "0";
    };
    // Subscribing while Redis is out of reach: try again until it is back (or we stop), never
    // an unhandled rejection or a subscription that silently never starts.
    const ready = (async () => {
      for (let delay = 500; ; delay = Math.min(delay * 2, 5_000)) {
        try {
          return await start();
        } catch (error) {
          if (stopped) return "";
          if (delay === 500) this.logger.log("warn", "cannot subscribe on Redis yet; retrying", { pattern, error: (error as Error).message });
          await pause(delay);
        }
      }
    })();
    const reading = ready.then(async (startId) => {
      let id = startId;
      // Durable: first this consumer's pending entries (given before, never acknowledged), from
      // the start of its history, then new ones (">").
      let pendingAfter: string | null = "0";
      let failures = 0;
      while (!stopped) {
        try {
          readerId ??= String(await reader.send("CLIENT", ["ID"]));
          if (stopped) break;
          let reply: StreamReply;
          if (group) {
            // Take no more than the subscriber can hold: the rest wait in the stream, unacknowledged by nobody.
            await queue.room(MAX_IN_HAND);
            if (stopped) break;
            const from = pendingAfter ?? ">";
            const block = pendingAfter === null ? ["BLOCK", "500"] : [];
            reply = (await reader.send("XREADGROUP", ["GROUP", group, CONSUMER, "COUNT", "100", ...block, "STREAMS", this.stream, from])) as StreamReply;
            if (pendingAfter !== null) pendingAfter = Object.values(reply ?? {})[0]?.length ? lastId(reply, pendingAfter) : null;
          } else {
            reply = (await reader.send("XREAD", ["COUNT", "100", "BLOCK", "500", "STREAMS", this.stream, id])) as StreamReply;
          }
          if (stopped) break;
          if (failures > 0) this.logger.log("info", "reading the Redis stream again", { pattern, after_failures: failures });
          failures = 0;
          deliver(reply);
          if (!group) id = lastId(reply, id);
        } catch (error) {
          if (stopped) break;
          // Once per outage, not twice a second for as long as it lasts.
          if (failures++ === 0) this.logger.log("warn", "cannot read the Redis stream; retrying", { pattern, error: (error as Error).message });
          // A reply lost with the connection leaves its entries pending on our consumer: read
          // those again first (a duplicate at worst, never a loss).
          if (group) pendingAfter = "0";
          readerId = null;
          await pause(Math.min(250 * 2 ** Math.min(failures, 5), 5_000));
        }
      }
    });
    const loopEnded = reading.then(() => true);
    const stop = async () => {
      stopped = true;
      queue.close();
      wake();
      // Unblock the reader's read and wait for its answer. CLIENT UNBLOCK is answered 0 when the
      // read has not reached Redis yet (it then blocks up to 500 ms): try again every 50 ms. A
      // reader that is not connected sends nothing more once closed (its queued commands are
      // rejected), and 2 s bounds the wait should Redis stop answering midway.
      for (let waited = 0; waited < 2_000 && reader.connected; waited += 50) {
        if (readerId !== null) await this.command("CLIENT", ["UNBLOCK", readerId]).catch(() => {});
        if (await Promise.race([loopEnded, Bun.sleep(50).then(() => false)])) break;
      }
      reader.close();
      await reading;
    };
    const entry = { stop, ready: ready.then(() => undefined) };
    this.subscriptions.add(entry);
    return () => {
      if (!this.subscriptions.delete(entry)) return;
      const done = entry.stop();
      this.stopping.add(done);
      void done.finally(() => this.stopping.delete(done));
    };
  }

  async ready(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.ready));
  }

  /** Resolves once no subscription's reader can take an entry any more and every acknowledgement owed is sent. */
  async close(): Promise<void> {
    const stops = [...this.subscriptions].map((s) => s.stop());
    this.subscriptions.clear();
    await Promise.all([...stops, ...this.stopping]);
    await Promise.all(this.acks);
    this.client.close();
  }
}
