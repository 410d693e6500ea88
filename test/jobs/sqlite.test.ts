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
queueConformance("sqlite", sqlite, { transactionalEnqueue: true });
workerConformance("sqlite", sqlite);
