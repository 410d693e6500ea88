// A till starts without its broker: subscriptions and events made before the bus opens take
// effect, in order, once it does.
import { expect, test } from "bun:test";
import { type EventBus, EventTooLargeError } from "../../src/events/bus.ts";
import { DeferredBus } from "../../src/events/deferred-bus.ts";
import type { Event } from "../../src/events/event.ts";
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

test("an event too large for the broker: refused at publish once the bus is open; kept before it was, it is dropped on opening and the events behind it go out", async () => {
  let reachable = false;
  const inner = new InProcessBus({ logger: silentLogger });
  // The broker's limit: what a real adapter (NATS's max_payload) refuses with EventTooLargeError.
  const limited: EventBus = {
    publish: () => Promise.reject(new Error("not used by DeferredBus")),
    publishEvent: (e: Event) => (e.type === "till.huge" ? Promise.reject(new EventTooLargeError(e.type, e.id, 2_000, 1_000, "the test broker takes")) : inner.publishEvent(e)),
    subscribe: (pattern, handler) => inner.subscribe(pattern, handler),
    close: () => inner.close(),
  };
  const bus = new DeferredBus(async () => {
    if (!reachable) throw new Error("connection refused");
    return limited;
  }, silentLogger, "test broker");
  const seen: string[] = [];
  bus.subscribe("till.*", (e) => void seen.push(e.type));
  await bus.publish("till.sale", {});
  await bus.publish("till.huge", {}); // its size cannot be checked before the broker is reached: kept
  await bus.publish("till.refund", {});
  reachable = true;
  await bus.opened;
  await waitFor(() => seen.length === 2, 2_000, "the events around the huge one");
  expect(seen).toEqual(["till.sale", "till.refund"]);
  expect(await bus.publish("till.huge", {}).then(() => null, (error: unknown) => error)).toBeInstanceOf(EventTooLargeError);
  await bus.publish("till.sale", {});
  await waitFor(() => seen.length === 3, 2_000, "the event after the refused one");
  await bus.close();
});
