// For every bus engine that offers durable subscriptions: a subscriber that was down receives
// what was published while it was away — and only what its pattern matches — and an event it
// had not finished handling when it went away is delivered again (at least once).
import { expect, test } from "bun:test";
import type { EventBus, EventHandler } from "../../src/events/bus.ts";
import { MAX_QUEUED } from "../../src/events/subscriber-queue.ts";
import { deferred, waitFor } from "../support/wait.ts";

export interface DurableEngine<Bus extends EventBus> {
  open(): Promise<Bus>;
  subscribeDurable(bus: Bus, pattern: string, handler: EventHandler): void;
  /** Removes what the test left in the broker (queue, stream, consumer). */
  cleanup(): Promise<void>;
}

export function durableSubscriberTest<Bus extends EventBus>(name: string, engine: DurableEngine<Bus>): void {
  test(`${name}: a durable subscriber that was down receives what it missed`, async () => {
    const publisher = await engine.open();
    const first = await engine.open();
    const seen: string[] = [];
    engine.subscribeDurable(first, "till.order.*", (e) => void seen.push(e.type));
    await first.ready?.();
    await publisher.publish("till.order.created", {});
    await waitFor(() => seen.length === 1);
    await first.close(); // the subscriber goes away; the broker keeps its place
    await publisher.publish("till.order.updated", {});
    await publisher.publish("till.order.line.added", {}); // `*` is one word: not for this subscription
    await publisher.publish("till.order.deleted", {});
    const again = await engine.open();
    const later: string[] = [];
    engine.subscribeDurable(again, "till.order.*", (e) => void later.push(e.type));
    await waitFor(() => later.length === 2, 5_000, "the missed events");
    // A marker published now comes after them: once it is in, a wrongly delivered event would be too.
    await again.ready?.();
    await publisher.publish("till.order.marker", {});
    await waitFor(() => later.includes("till.order.marker"), 5_000, "the marker event");
    expect(later).toEqual(["till.order.updated", "till.order.deleted", "till.order.marker"]);
    await Promise.all([again.close(), publisher.close()]);
    await engine.cleanup();
  });

  test(`${name}: events the subscriber had not finished when it stopped are delivered again`, async () => {
    const publisher = await engine.open();
    const first = await engine.open();
    const started: string[] = [];
    // The handler never finishes: the process "dies" with one event in hand and one queued.
    engine.subscribeDurable(first, "till.order.*", (e) => {
      started.push(e.type);
      return new Promise<void>(() => {});
    });
    await first.ready?.();
    await publisher.publish("till.order.created", {});
    await publisher.publish("till.order.updated", {});
    await waitFor(() => started.length === 1);
    await Bun.sleep(100); // the second reaches the subscriber's queue too
    await first.close();
    const again = await engine.open();
    const later: string[] = [];
    engine.subscribeDurable(again, "till.order.*", (e) => void later.push(e.type));
    await waitFor(() => later.length >= 2, 10_000, "the unfinished events, again");
    expect([...new Set(later)].sort()).toEqual(["till.order.created", "till.order.updated"]);
    // Finished this time: acknowledged — close() sends what it owes — so a third subscriber gets nothing more.
    await again.close(); // no wait after it: close() returns once its reader can take nothing more (next test)
    const third = await engine.open();
    const after: string[] = [];
    engine.subscribeDurable(third, "till.order.*", (e) => void after.push(e.type));
    await third.ready?.();
    await publisher.publish("till.order.deleted", {});
    await waitFor(() => after.length >= 1, 10_000, "the next event");
    await Bun.sleep(1_500); // longer than JetStream's acknowledgement wait in these tests
    expect(after).toEqual(["till.order.deleted"]);
    await Promise.all([third.close(), publisher.close()]);
    await engine.cleanup();
  });

  test(`${name}: an event published right after a durable subscriber closed reaches the next one`, async () => {
    const publisher = await engine.open();
    const first = await engine.open();
    const next = await engine.open();
    try {
      const seen: string[] = [];
      engine.subscribeDurable(first, "till.order.*", (e) => void seen.push(e.type));
      await first.ready?.();
      await publisher.publish("till.order.created", {});
      await waitFor(() => seen.length === 1, 5_000, "the first event");
      await first.close(); // at once: a new subscriber takes over while nothing waits for the old one to fade
      const later: string[] = [];
      engine.subscribeDurable(next, "till.order.*", (e) => void later.push(e.type));
      await next.ready?.();
      await publisher.publish("till.order.updated", {});
      await waitFor(() => later.includes("till.order.updated"), 10_000, "the event published after the close");
      expect(later).toEqual(["till.order.updated"]);
      expect(seen).toEqual(["till.order.created"]);
    } finally {
      await Promise.all([next.close(), publisher.close()]);
      await engine.cleanup();
    }
  });

  test(`${name}: a subscriber further behind than its queue holds loses nothing: the rest wait in the broker`, async () => {
    const publisher = await engine.open();
    const subscriber = await engine.open();
    const busy = deferred();
    const seen = new Set<number>();
    engine.subscribeDurable(subscriber, "till.stock.*", async (e) => {
      await busy.promise; // busy until everything is published
      seen.add((e.data as { i: number }).i);
    });
    await subscriber.ready?.();
    const total = MAX_QUEUED + 500; // more than a subscriber's queue: an engine that took them all would drop some
    for (let from = 0; from < total; from += 500) {
      await Promise.all(Array.from({ length: Math.min(500, total - from) }, (_, k) => publisher.publish("till.stock.counted", { i: from + k })));
    }
    await Bun.sleep(1_000); // time enough for an engine that takes whatever is there to take it all (and drop some)
    busy.resolve();
    await waitFor(() => seen.size === total, 60_000, `all ${total} events`);
    await Promise.all([subscriber.close(), publisher.close()]);
    await engine.cleanup();
  }, 90_000);
}
