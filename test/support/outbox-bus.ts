// A network bus behind a durable outbox in a fresh database file, as `serve` runs it: for the
// outage suites, where events published while the broker is away must arrive once it is back.
import { openDatabase } from "../../src/db/open.ts";
import { EventTooLargeError } from "../../src/events/bus.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { OutboxBus, type RelayTarget } from "../../src/events/outbox-bus.ts";
import { outboxMigrations } from "../../src/events/outbox.ts";
import { silentLogger, type Logger } from "../../src/log.ts";
import { tempDir } from "./temp.ts";

export async function behindOutbox(bus: RelayTarget | Promise<RelayTarget>, engine: string, logger: Logger = silentLogger): Promise<OutboxBus> {
  const inner = await bus;
  const tmp = tempDir();
  const db = openDatabase(tmp.file("outbox.db"), { migrations: outboxMigrations });
  const outboxBus = new OutboxBus(db, inner, { logger, engine });
  const close = outboxBus.close.bind(outboxBus);
  outboxBus.close = async () => {
    await close();
    db.close();
    tmp.remove();
  };
  return outboxBus;
}

/** A broker the test switches on and off (`up`), that takes only `allow` more events while up
 * (then refuses, as if it went away mid-batch), with an optional size limit. */
export function broker(options: { maxEventBytes?: number } = {}) {
  const inner = new InProcessBus({ logger: silentLogger, maxQueued: 100_000 });
  const state = { up: false, sent: 0, allow: Infinity };
  const bus: RelayTarget = {
    publish: () => Promise.reject(new Error("the relay uses publishEvent")),
    async publishEvent(event) {
      if (!state.up || state.allow <= 0) throw new Error("connection refused");
      if (options.maxEventBytes !== undefined && JSON.stringify(event).length > options.maxEventBytes) throw new EventTooLargeError(event.type, event.id, JSON.stringify(event).length, options.maxEventBytes, "the test broker takes");
      state.allow--;
      state.sent++;
      await inner.publishEvent(event);
    },
    subscribe: (pattern, handler) => inner.subscribe(pattern, handler),
    close: async () => {},
  };
  return { bus, state, inner };
}
