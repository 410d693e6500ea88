// One suite for every EventBus engine (in-process now; Redis, NATS, RabbitMQ later).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { type EventBus, EventTooLargeError } from "../../src/events/bus.ts";
import { createEvent, type Event } from "../../src/events/event.ts";
import { deferred, waitFor } from "../support/wait.ts";

export interface BusLimits {
  /** The most bytes an event's JSON may have on this engine (read from its broker); unset: no limit the suite's 3 MiB event reaches. */
  maxEventBytes?: number;
}

// 3 MiB of text with multi-byte characters, newlines and quotes in it.
const chunk = Array.from({ length: 1_024 }, (_, i) => String.fromCharCode(32 + (i % 90)) + (i % 97 === 0 ? "é€😀\n\"" : "")).join("");
const largeData = { blob: chunk.repeat(3 * 1_024).slice(0, 3 * 1_024 * 1_024) };
const largeEventBytes = Buffer.byteLength(JSON.stringify(createEvent("bulk.report", largeData)));

/** An event whose JSON is exactly `bytes` long. */
function eventOfSize(type: string, bytes: number): Event {
  const bare = Buffer.byteLength(JSON.stringify(createEvent(type, "")));
  const event = createEvent(type, "x".repeat(bytes - bare));
  expect(Buffer.byteLength(JSON.stringify(event))).toBe(bytes);
  return event;
}

export function busConformance(name: string, factory: () => EventBus | Promise<EventBus>, limits: BusLimits = {}): void {
  const { maxEventBytes } = limits;
  const largeFits = maxEventBytes === undefined || largeEventBytes <= maxEventBytes;
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

    if (largeFits) test("a multi-megabyte event arrives whole", async () => {
      const got: Event[] = [];
      bus.subscribe("bulk.report", (e) => void got.push(e));
      await bus.ready?.();
      const sent = await bus.publish("bulk.report", largeData);
      await waitFor(() => got.length === 1, 10_000, "the large event");
      expect(got[0]!.id).toBe(sent.id);
      expect(JSON.stringify(got[0]!.data) === JSON.stringify(largeData)).toBe(true); // no multi-megabyte diff on failure
    });

    if (!largeFits) test(`a multi-megabyte event over the broker's limit (${maxEventBytes} bytes) is refused at publish with EventTooLargeError, and later events still flow`, async () => {
      const got: Event[] = [];
      bus.subscribe("bulk.*", (e) => void got.push(e));
      await bus.ready?.();
      const refused = await bus.publish("bulk.report", largeData).then(() => null, (error: unknown) => error);
      expect(refused).toBeInstanceOf(EventTooLargeError);
      expect(refused).toMatchObject({ code: "EVENT_TOO_LARGE", eventType: "bulk.report", bytes: largeEventBytes, limit: maxEventBytes });
      const after = await bus.publish("bulk.after", { n: 1 });
      const later = await bus.publish("bulk.after", { n: 2 });
      await waitFor(() => got.length === 2, 5_000, "the events published after the refused one");
      expect(got.map((e) => e.id)).toEqual([after.id, later.id]); // and the refused one never arrives
    });

    if (maxEventBytes !== undefined) test("an event of exactly the broker's limit arrives whole; one byte more is refused", async () => {
      const got: Event[] = [];
      bus.subscribe("edge.*", (e) => void got.push(e));
      await bus.ready?.();
      const over = eventOfSize("edge.over", maxEventBytes! + 1);
      expect(await bus.publishEvent(over).then(() => null, (error: unknown) => error)).toBeInstanceOf(EventTooLargeError);
      const fits = eventOfSize("edge.fits", maxEventBytes!);
      await bus.publishEvent(fits);
      await waitFor(() => got.length === 1, 5_000, "the event at the limit");
      expect(got[0]!.id).toBe(fits.id);
      expect(got[0]!.data === fits.data).toBe(true);
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
