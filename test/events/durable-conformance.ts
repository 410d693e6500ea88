// For every bus engine that offers durable subscriptions: a subscriber that was down receives
// what was published while it was away — and only what its pattern matches.
import { expect, test } from "bun:test";
import type { EventBus, EventHandler } from "../../src/events/bus.ts";
import { waitFor } from "../support/wait.ts";

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
    await Bun.sleep(600); // any blocking read it had in flight times out: it is really gone
    await publisher.publish("till.order.updated", {});
    await publisher.publish("till.order.line.added", {}); // `*` is one word: not for this subscription
    await publisher.publish("till.order.deleted", {});
    const again = await engine.open();
    const later: string[] = [];
    engine.subscribeDurable(again, "till.order.*", (e) => void later.push(e.type));
    await waitFor(() => later.length === 2, 5_000, "the missed events");
    await Bun.sleep(50);
    expect(later).toEqual(["till.order.updated", "till.order.deleted"]);
    await Promise.all([again.close(), publisher.close()]);
    await engine.cleanup();
  });
}
