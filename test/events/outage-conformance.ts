// For every bus on a network engine: the connection drops (the broker restarts, a cable is
// pulled) and comes back. Nothing crashes, publishing during the outage neither throws nor
// hangs, subscriptions deliver again once it is back, and — where the adapter keeps them —
// the events published meanwhile arrive too.
import { expect, test } from "bun:test";
import type { EventBus, EventHandler } from "../../src/events/bus.ts";
import { tcpProxy } from "../support/tcp-proxy.ts";
import { waitFor } from "../support/wait.ts";

export interface OutageEngine {
  /** The engine's real port, which the proxy forwards to. */
  port: number;
  /** A bus that reaches the engine through this port. */
  open(port: number): Promise<EventBus>;
  /** Whether events published while the engine was out of reach are delivered once it is back. */
  keepsEventsPublishedDuring: boolean;
  /** Subscribes durably, where the engine offers it: the same checks then run on that subscription too. */
  subscribeDurable?: (bus: EventBus, pattern: string, handler: EventHandler) => void;
  /** Removes what a durable subscription left in the broker. */
  cleanup?: () => Promise<void>;
}

export function busOutageTest(name: string, engine: OutageEngine): void {
  const kinds: [string, (bus: EventBus, pattern: string, handler: EventHandler) => void][] = [["", (bus, pattern, handler) => void bus.subscribe(pattern, handler)]];
  if (engine.subscribeDurable) kinds.push([" (durable subscription)", engine.subscribeDurable]);
  for (const [kind, subscribe] of kinds) {
    test(`${name}: after the connection drops and comes back, subscriptions deliver again${engine.keepsEventsPublishedDuring ? ", with what was published meanwhile" : ""}${kind}`, async () => {
      const proxy = tcpProxy(engine.port);
      const bus = await engine.open(proxy.port);
      try {
        const seen: string[] = [];
        subscribe(bus, "outage.*", (e) => void seen.push((e.data as { n: string }).n));
        await bus.ready?.();
        await bus.publish("outage.tick", { n: "before" });
        await waitFor(() => seen.includes("before"), 5_000, "the first event");

        proxy.down();
        await Bun.sleep(500); // the client notices the connection is gone
        // Neither a throw nor a wait for the broker: the till goes on while it is away.
        const during = await Promise.race([
          bus.publish("outage.tick", { n: "during" }).then(() => "returned", () => "rejected"),
          Bun.sleep(1_000).then(() => "hung"),
        ]);
        expect(during === "returned" || (!engine.keepsEventsPublishedDuring && during === "rejected")).toBe(true);

        proxy.up();
        let n = 0;
        await waitFor(async () => {
          await bus.publish("outage.tick", { n: `after-${++n}` }).catch(() => {});
          await Bun.sleep(200);
          return seen.some((s) => s.startsWith("after-"));
        }, 20_000, "delivery after the connection is back");
        if (engine.keepsEventsPublishedDuring) await waitFor(() => seen.includes("during"), 5_000, "the event published during the outage");
      } finally {
        await bus.close();
        proxy.stop();
        await engine.cleanup?.();
      }
    }, 40_000);
  }
}
