import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { queueConformance, type QueueFactory } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";

const sqlite: QueueFactory = (clock) => {
  const db = openDatabase(":memory:", { migrations: jobsMigrations });
  return { queue: new SqliteQueue(db, { clock }), close: () => db.close() };
};
queueConformance("sqlite", sqlite);
workerConformance("sqlite", sqlite);
