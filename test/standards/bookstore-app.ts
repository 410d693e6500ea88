// The bookstore's HTTP app built from its parts (models, the place-order action, schedules) on
// a fresh database, for the checks that read the real app's type and document: Eden's treaty
// (eden.test.ts) and the generated OpenAPI clients (openapi-*.test.ts). The receipt job is a
// stub here: these checks are about the HTTP surface, not the mail.
import { createApp } from "../../src/api/app.ts";
import { Scheduler } from "../../src/cron/scheduler.ts";
import { cronMigrations } from "../../src/cron/store.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { Book, seedCatalogue } from "../../src/store/catalogue.ts";
import { Order, placeOrder, RECEIPT_JOB } from "../../src/store/orders.ts";
import { addUser } from "../api/support.ts";
import { tempDir } from "../support/temp.ts";

export function bookstoreApp() {
  const tmp = tempDir();
  const db = openDatabase(tmp.file("store.db"), { migrations: [...jobsMigrations, ...cronMigrations], synchronous: "NORMAL" });
  const queue = new SqliteQueue(db);
  const scheduler = new Scheduler({ db, queue, logger: silentLogger });
  const built = createApp({ db, queue, models: [Book, Order], actions: [placeOrder], scheduler, anonymousJobStatuses: false, logger: silentLogger, operations: { metrics: new BackroomMetrics(db) }, title: "Backroom store terminal", version: "0.1.0" });
  seedCatalogue(built.services);
  const users = { admin: addUser(built.services, "root", ["admin"]), ana: addUser(built.services, "ana") };
  const worker = new Worker({ source: queue, handlers: { ...built.jobHandlers, [RECEIPT_JOB]: () => ({ output: { sent: true } }) }, logger: silentLogger, concurrency: 2 });
  return {
    ...built,
    db,
    queue,
    scheduler,
    users,
    worker,
    async close() {
      await worker.shutdown(1_000);
      db.close();
      tmp.remove();
    },
  };
}
