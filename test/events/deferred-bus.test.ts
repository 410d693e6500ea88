// A till starts without its broker: subscriptions and events made before the bus opens take
// effect, in order, once it does.
import { expect, test } from "bun:test";
import { DeferredBus } from "../../src/events/deferred-bus.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";

test("before the broker is reached: subscriptions are recorded and events kept; once it is, both take effect in order", async () => {
  let attempts = 0;
  let reachable = false;
  const inner = new InProcessBus({ logger: silentLogger });
  const bus = new DeferredBus(async () => {
    attempts++;
    if (!reachable) throw new Error("connection refused");
    return inner;
  }, silentLogger, "test broker");
  const seen: number[] = [];
  bus.subscribe("till.*", (e) => void seen.push((e.data as { n: number }).n));
  expect(() => bus.subscribe("till..x", () => {})).toThrow(); // bad patterns are refused at once, as by every bus
  await bus.publish("till.sale", { n: 1 }); // resolves: the till is not held up
  await bus.publish("till.sale", { n: 2 });
  await waitFor(() => attempts >= 2, 2_000, "a second attempt");
  expect(seen).toEqual([]);
  reachable = true;
  await bus.opened;
  await bus.publish("till.sale", { n: 3 });
  await waitFor(() => seen.length === 3, 2_000, "every event");
  expect(seen).toEqual([1, 2, 3]);
  const unsubscribe = bus.subscribe("till.refund", (e) => void seen.push(-(e.data as { n: number }).n));
  await bus.publish("till.refund", { n: 4 });
  await waitFor(() => seen.includes(-4), 1_000, "a subscription made after opening");
  unsubscribe();
  await bus.close();
});

test("closed before the broker was ever reached: it stops trying", async () => {
  let attempts = 0;
  const bus = new DeferredBus(async () => {
    attempts++;
    throw new Error("connection refused");
  }, silentLogger, "test broker");
  await waitFor(() => attempts >= 1, 1_000, "the first attempt");
  await bus.close();
  const after = attempts;
  await Bun.sleep(600); // past the next backoff
  expect(attempts).toBe(after);
});
