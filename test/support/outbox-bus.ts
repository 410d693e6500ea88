// A network bus behind a durable outbox in a fresh database file, as `serve` runs it: for the
// outage suites, where events published while the broker is away must arrive once it is back.
import { openDatabase } from "../../src/db/open.ts";
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
