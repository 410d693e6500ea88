// A store app on a fresh database with an outbox mailer in a temp folder.
import type { Services } from "../../src/models/services.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue } from "../../src/jobs/sqlite.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { seedCatalogue } from "../../src/store/catalogue.ts";
import { createMailer, type Mailer } from "../../src/runtime/mailer.ts";
import { addUser, request } from "../api/support.ts";
import { tempDir } from "../support/temp.ts";

export function storeFixture(options: { mailer?: Mailer; smtpUrl?: string } = {}) {
  const tmp = tempDir();
  const db = openDatabase(tmp.file("store.db"), { migrations: storeMigrations, synchronous: "NORMAL" });
  const queue = new SqliteQueue(db);
  const mailer = options.mailer ?? createMailer({ from: "till@backroom.local", outbox: tmp.file("outbox"), smtpUrl: options.smtpUrl ?? null });
  const store = createStoreApp({ db, queue, mailer, logger: silentLogger });
  seedCatalogue(store.services);
  const users = {
    admin: addUser(store.services, "root", ["admin"]),
    ana: addUser(store.services, "ana"),
    ben: addUser(store.services, "ben"),
  };
  let worker: Worker | null = null;
  return {
    ...store,
    db,
    queue,
    tmp,
    users,
    call: request(store.app),
    books: () => store.services.model("books").list({ where: [], sort: [{ field: "title", direction: "asc" }], limit: 100, offset: 0 }).rows,
    startWorker(backoff = { baseMs: 5, jitter: 0 }) {
      worker = new Worker({ source: queue, handlers: store.handlers, logger: silentLogger, concurrency: 4, backoff }).start();
      return worker;
    },
    async close() {
      await worker?.shutdown(1_000);
      mailer.close();
      db.close();
      tmp.remove();
    },
  };
}

export type StoreFixture = ReturnType<typeof storeFixture>;
export type { Services };
