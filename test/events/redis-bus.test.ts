// The Redis Streams bus passes the bus conformance suite — when REDIS_URL is set (.ci/run sets
// it) — and its durable subscriptions (consumer groups) keep what a subscriber missed.
import { describe, test } from "bun:test";
import { RedisClient } from "bun";
import { RedisStreamsBus } from "../../src/events/redis.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";

const url = process.env.REDIS_URL;
if (!url) {
  console.warn("SKIPPED: Redis event bus tests (set REDIS_URL, e.g. redis://127.0.0.1:6379)");
  describe.skip("Redis bus (REDIS_URL not set)", () => test("needs Redis", () => {}));
} else {
  let n = 0;
  busConformance("redis streams", () => new RedisStreamsBus(url, { logger: silentLogger, stream: `backroom:test:${process.pid}:${++n}` }));

  const stream = `backroom:durable:${process.pid}`;
  durableSubscriberTest("redis streams", {
    open: async () => new RedisStreamsBus(url, { logger: silentLogger, stream }),
    subscribeDurable: (bus, pattern, handler) => bus.subscribe(pattern, handler, { durable: "head-office" }),
    async cleanup() {
      const admin = new RedisClient(url);
      await admin.send("DEL", [stream]);
      admin.close();
    },
  });
}
