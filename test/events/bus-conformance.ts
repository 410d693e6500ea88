// One suite for every EventBus engine (in-process now; Redis, NATS, RabbitMQ later).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { EventBus } from "../../src/events/bus.ts";
import type { Event } from "../../src/events/event.ts";
import { deferred, waitFor } from "../support/wait.ts";

/** Bugs an engine is known to have: each turns its test into test.failing, named, until fixed. */
export interface KnownBusBugs {
  largeEvent?: string;
}

export function busConformance(name: string, factory: () => EventBus | Promise<EventBus>, known: KnownBusBugs = {}): void {
  describe(`${name} event bus conformance`, () => {
    let bus: EventBus;
    beforeEach(async () => (bus = await factory()));
    afterEach(() => bus.close());

    test("delivers a CloudEvents-shaped envelope to matching subscribers only", async () => {
      const got: Event[] = [];
      const other: string[] = [];
      bus.subscribe("order.*", (e) => void got.push(e));
      bus.subscribe("book.*", (e) => void other.push(e.type));
      await bus.ready?.();
      const sent = await bus.publish("order.created", { id: "o1" }, { actorId: "u1", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
      await bus.publish("book.marker", null);
      await waitFor(() => got.length === 1 && other.length >= 1);
      // Events reach a subscriber in publish order, so once the later marker is in, a wrongly
      // routed order.created would be in too.
      expect(other).toEqual(["book.marker"]);
      expect(got[0]).toEqual(sent);
      expect(sent).toMatchObject({ specversion: "1.0", type: "order.created", source: "backroom", datacontenttype: "application/json", actorid: "u1", visibility: "owner", data: { id: "o1" } });
      expect(sent.id).toMatch(/^[0-9A-Z]{26}$/);
      expect(Date.parse(sent.time)).toBeGreaterThan(0);
    });

    test("each subscriber receives events in publish order", async () => {
      const got: number[] = [];
      bus.subscribe("tick", async (e) => {
        if ((e.data as number) % 3 === 0) await Bun.sleep(1);
        got.push(e.data as number);
      });
      await bus.ready?.();
      for (let i = 0; i < 50; i++) await bus.publish("tick", i);
      await waitFor(() => got.length === 50);
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    test("a subscriber that throws or hangs holds up neither the publisher nor the others", async () => {
      const hang = deferred();
      const healthy: unknown[] = [];
      bus.subscribe("x.>", () => {
        throw new Error("broken subscriber");
      });
      bus.subscribe("x.>", () => hang.promise);
      bus.subscribe("x.>", (e) => void healthy.push(e.data));
      await bus.ready?.();
      await bus.publish("x.a", 1);
      await bus.publish("x.b.c", 2);
      await waitFor(() => healthy.length === 2);
      expect(healthy).toEqual([1, 2]);
      hang.resolve();
    });

    test.failingIf(known.largeEvent !== undefined)(`a multi-megabyte event arrives whole${known.largeEvent ? ` (KNOWN BUG: ${known.largeEvent})` : ""}`, async () => {
      const chunk = Array.from({ length: 1_024 }, (_, i) => String.fromCharCode(32 + (i % 90)) + (i % 97 === 0 ? "é€😀\n\"" : "")).join("");
      const data = { blob: chunk.repeat(3 * 1_024).slice(0, 3 * 1_024 * 1_024) };
      const got: Event[] = [];
      bus.subscribe("bulk.report", (e) => void got.push(e));
      await bus.ready?.();
      const sent = await bus.publish("bulk.report", data);
      await waitFor(() => got.length === 1, known.largeEvent ? 2_000 : 10_000, "the large event");
      expect(got[0]!.id).toBe(sent.id);
      expect(JSON.stringify(got[0]!.data) === JSON.stringify(data)).toBe(true); // no multi-megabyte diff on failure
    });

    test("unsubscribe stops delivery", async () => {
      const got: unknown[] = [];
      const off = bus.subscribe("a", (e) => void got.push(e.data));
      await bus.ready?.();
      await bus.publish("a", 1);
      await waitFor(() => got.length === 1);
      off();
      const still: unknown[] = [];
      bus.subscribe("a", (e) => void still.push(e.data));
      await bus.ready?.();
      await bus.publish("a", 2);
      await bus.publish("a", 3);
      await waitFor(() => still.length === 2, 5_000, "a later subscriber to receive both events");
      expect(got).toEqual([1]);
    });
  });
}
