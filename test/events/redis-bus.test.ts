// The Redis Streams bus passes the bus conformance suite — when REDIS_URL is set (.ci/run sets
// it) — and its durable subscriptions (consumer groups) keep what a subscriber missed.
import { describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { RedisStreamsBus } from "../../src/events/redis.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { busConformance } from "./bus-conformance.ts";

const url = process.env.REDIS_URL;
if (!url) {
  console.warn("SKIPPED: Redis event bus tests (set REDIS_URL, e.g. redis://127.0.0.1:6379)");
  describe.skip("Redis bus (REDIS_URL not set)", () => test("needs Redis", () => {}));
} else {
  let n = 0;
  busConformance("redis streams", () => new RedisStreamsBus(url, { logger: silentLogger, stream: `backroom:test:${process.pid}:${++n}` }));

  test("a durable subscriber that was down receives what it missed", async () => {
    const stream = `backroom:durable:${process.pid}`;
    const publisher = new RedisStreamsBus(url, { logger: silentLogger, stream });
    const first = new RedisStreamsBus(url, { logger: silentLogger, stream });
    const seen: string[] = [];
    first.subscribe("till.order.*", (e) => void seen.push(e.type), { durable: "head-office" });
    await first.ready();
    await publisher.publish("till.order.created", {});
    await waitFor(() => seen.length === 1);
    await first.close();
    await Bun.sleep(600); // its blocking read times out: it is really gone
    await publisher.publish("till.order.updated", {});
    await publisher.publish("till.order.line.added", {}); // `*` is one word: not for this subscription
    await publisher.publish("till.order.deleted", {});
    const again = new RedisStreamsBus(url, { logger: silentLogger, stream });
    const later: string[] = [];
    again.subscribe("till.order.*", (e) => void later.push(e.type), { durable: "head-office" });
    await waitFor(() => later.length === 2, 5_000, "the missed events");
    expect(later).toEqual(["till.order.updated", "till.order.deleted"]);
    await Promise.all([again.close(), publisher.close()]);
    const admin = new RedisClient(url);
    await admin.send("DEL", [stream]);
    admin.close();
  });
}
