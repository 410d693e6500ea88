import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { queueConformance, type QueueFactory } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";

const sqlite: QueueFactory = (clock) => {
  const db = openDatabase(":memory:", { migrations: jobsMigrations });
  const queue = new SqliteQueue(db, { clock });
  return {
    queue,
    close: () => db.close(),
    // A restart: a new queue on the same file (":memory:" lives as long as its connection).
    reopen: async () => new SqliteQueue(db, { clock }),
    enqueueInTransaction: async (job, end) => {
      // Only the error thrown here may end the transaction: an enqueue that threw fails the test.
      const rollback = new Error("rolled back by the test");
      let id = "";
      try {
        db.transaction(() => {
          id = queue.enqueue(job);
          if (end === "rollback") throw rollback;
        });
      } catch (error) {
        if (error !== rollback) throw error;
      }
      return id;
    },
  };
};
queueConformance("sqlite", sqlite, { transactionalEnqueue: true, durable: true });
workerConformance("sqlite", sqlite);
