// The event bus on Redis Streams (Bun's built-in Redis client). Events are appended to one
// stream (XADD, trimmed to about 100,000 entries); each subscription reads it on its own
// connection with a blocking XREAD and keeps the events its pattern matches (Redis has no
// dotted-word wildcards, so matching is the same matcher every bus uses). With
// `durable: "<name>"` a subscription reads through a consumer group: what is published while
// the subscriber is down waits in the stream and is delivered when it comes back.
import { RedisClient } from "bun";
import { jsonLogger, type Logger } from "../log.ts";
import type { EventBus, EventHandler } from "./bus.ts";
import { createEvent, type Event, type EventMeta } from "./event.ts";
import { compilePattern } from "./pattern.ts";
import { SubscriberQueue } from "./subscriber-queue.ts";

export interface RedisSubscribeOptions {
  /** A consumer-group name: missed events are kept while this subscriber is away. */
  durable?: string;
}

type StreamReply = Record<string, [string, string[]][]> | null;

export class RedisStreamsBus implements EventBus {
  private readonly client: RedisClient;
  private readonly subscriptions = new Set<{ stop(): void; ready: Promise<void> }>();

  constructor(
    private readonly url: string,
    private readonly options: { stream?: string; logger?: Logger; maxLength?: number } = {},
  ) {
    this.client = new RedisClient(url);
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

  async publishEvent(event: Event): Promise<void> {
    await this.client.send("XADD", [this.stream, "MAXLEN", "~", String(this.options.maxLength ?? 100_000), "*", "event", JSON.stringify(event)]);
  }

  subscribe(pattern: string, handler: EventHandler, options: RedisSubscribeOptions = {}): () => void {
    const matches = compilePattern(pattern);
    const queue = new SubscriberQueue(pattern, handler, this.logger);
    const reader = new RedisClient(this.url);
    let stopped = false;
    const deliver = (reply: StreamReply) => {
      for (const entries of Object.values(reply ?? {})) {
        for (const [, fields] of entries) {
          try {
            const event = JSON.parse(fields[fields.indexOf("event") + 1]!) as Event;
            if (matches(event.type)) queue.push(event);
          } catch (error) {
            this.logger.log("warn", "ignored a stream entry that is not a Backroom event", { error: (error as Error).message });
          }
        }
      }
    };
    const lastId = (reply: StreamReply, fallback: string) => Object.values(reply ?? {})[0]?.at(-1)?.[0] ?? fallback;
    const ready = (async () => {
      if (options.durable) {
        await reader.send("XGROUP", ["CREATE", this.stream, options.durable, "$", "MKSTREAM"]).catch((e: Error) => {
          if (!/BUSYGROUP/.test(String(e))) throw e;
        });
        return "";
      }
      const last = (await reader.send("XREVRANGE", [this.stream, "+", "-", "COUNT", "1"])) as [string, string[]][] | null;
      return last?.[0]?.[0] ?? "0";
    })();
    void ready.then(async (startId) => {
      let id = startId;
      const consumer = `c-${process.pid}`;
      while (!stopped) {
        try {
          const reply = options.durable
            ? ((await reader.send("XREADGROUP", ["GROUP", options.durable, consumer, "COUNT", "100", "BLOCK", "500", "STREAMS", this.stream, ">"])) as StreamReply)
            : ((await reader.send("XREAD", ["COUNT", "100", "BLOCK", "500", "STREAMS", this.stream, id])) as StreamReply);
          if (stopped) break;
          deliver(reply);
          if (options.durable) {
            const ids = Object.values(reply ?? {}).flatMap((entries) => entries.map(([entryId]) => entryId));
            if (ids.length) await reader.send("XACK", [this.stream, options.durable, ...ids]);
          } else id = lastId(reply, id);
        } catch (error) {
          if (stopped) break;
          this.logger.log("error", "Redis stream read failed; retrying", { pattern, error: (error as Error).message });
          await Bun.sleep(500);
        }
      }
      reader.close();
    });
    const entry = {
      stop: () => {
        stopped = true;
        queue.close();
      },
      ready: ready.then(() => undefined),
    };
    this.subscriptions.add(entry);
    return () => {
      this.subscriptions.delete(entry);
      entry.stop();
    };
  }

  async ready(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.ready));
  }

  async close(): Promise<void> {
    for (const s of this.subscriptions) s.stop();
    this.subscriptions.clear();
    this.client.close();
  }
}
