// A till starts without its broker: subscriptions made before the bus opens take effect once it
// does; events published meanwhile are the outbox's to keep (outbox.test.ts).
import { expect, test } from "bun:test";
import { DeferredBus } from "../../src/events/deferred-bus.ts";
import { createEvent } from "../../src/events/event.ts";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";

test("before the broker is reached: subscriptions are recorded and publishing rejects (the outbox in front keeps the events); once it is, both work", async () => {
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
  expect(await bus.publish("till.sale", { n: 1 }).then(() => null, (error: Error) => error.message)).toBe("not connected to test broker yet");
  await waitFor(() => attempts >= 2, 2_000, "a second attempt");
  reachable = true;
  await bus.opened;
  await bus.publish("till.sale", { n: 2 });
  await bus.publishEvents([createEvent("till.sale", { n: 3 }), createEvent("till.sale", { n: 4 })]);
  await waitFor(() => seen.length === 3, 2_000, "every event");
  expect(seen).toEqual([2, 3, 4]);
  const unsubscribe = bus.subscribe("till.refund", (e) => void seen.push(-(e.data as { n: number }).n));
  await bus.publish("till.refund", { n: 5 });
  await waitFor(() => seen.includes(-5), 1_000, "a subscription made after opening");
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
