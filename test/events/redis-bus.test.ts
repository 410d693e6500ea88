// The Redis Streams bus passes the bus conformance suite — when REDIS_URL is set (.ci/run sets
// it) — and its durable subscriptions (consumer groups) keep what a subscriber missed.
import { RedisClient } from "bun";
import { RedisStreamsBus } from "../../src/events/redis.ts";
import { silentLogger } from "../../src/log.ts";
import { busConformance } from "./bus-conformance.ts";
import { durableSubscriberTest } from "./durable-conformance.ts";
import { busOutageTest } from "./outage-conformance.ts";
import { engineUrl } from "../support/engines.ts";
import { behindOutbox } from "../support/outbox-bus.ts";

const url = engineUrl("REDIS_URL", "Redis event bus tests", "redis://127.0.0.1:6379");
if (url) {
  let n = 0;
  busConformance("redis streams", () => new RedisStreamsBus(url, { logger: silentLogger, stream: `backroom:test:${process.pid}:${++n}` }));
  busOutageTest("redis streams", {
    port: Number(new URL(url).port || 6379),
    // Behind the durable outbox, as `serve` runs it: the events published meanwhile are kept there.
    open: (port) => behindOutbox(new RedisStreamsBus(`redis://127.0.0.1:${port}`, { logger: silentLogger, stream: `backroom:outage:${process.pid}` }), "Redis"),
    keepsEventsPublishedDuring: true,
    subscribeDurable: (bus, pattern, handler) => void (bus as RedisStreamsBus).subscribe(pattern, handler, { durable: "outage" }),
    async cleanup() {
      const admin = new RedisClient(url);
      await admin.send("DEL", [`backroom:outage:${process.pid}`]);
      admin.close();
    },
  });

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
