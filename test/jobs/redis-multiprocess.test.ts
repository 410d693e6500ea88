// Worker processes on one Redis queue: the shared multi-process suite, and nothing left pending
// in the consumer group once a dead process's jobs were taken over.
import { afterAll, expect } from "bun:test";
import { RedisClient } from "bun";
import { RedisQueue } from "../../src/jobs/redis.ts";
import { engineUrl } from "../support/engines.ts";
import type { Run } from "./fixtures/worker-process.ts";
import { multiProcessConformance } from "./multiprocess-conformance.ts";

const url = engineUrl("REDIS_URL", "Redis multi-process tests", "redis://127.0.0.1:6379");
if (url) {
  const admin = new RedisClient(url);
  afterAll(() => admin.close());
  multiProcessConformance("redis", async () => {
    const prefix = `mp-${process.pid}-${Date.now() % 100000}`;
    const queue = new RedisQueue({ url, prefix });
    await queue.migrate();
    return {
      queue,
      worker: { script: "test/jobs/fixtures/redis-worker.ts", args: [url, prefix] },
      runs: async () => ((await admin.send("LRANGE", [`${prefix}:test-runs`, "0", "-1"])) as string[]).map((r) => JSON.parse(r) as Run).sort((a, b) => a.started - b.started),
      async assertSettled() {
        expect(((await admin.send("XPENDING", [`${prefix}:dispatch`, "workers"])) as [number])[0]).toBe(0);
      },
      async close() {
        await queue.close();
        let cursor = "0";
        do {
          const [next, keys] = (await admin.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [string, string[]];
          if (keys.length > 0) await admin.send("DEL", keys);
          cursor = next;
        } while (cursor !== "0");
      },
    };
  });
}
