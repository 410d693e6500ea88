// Events a network bus could not hand over wait, in order, bounded, and go out once it can.
import { expect, test } from "bun:test";
import { EventTooLargeError } from "../../src/events/bus.ts";
import { createEvent, type Event } from "../../src/events/event.ts";
import { UnsentEvents } from "../../src/events/unsent-events.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";

const event = (n: number) => createEvent("tick", { n });
const numbers = (events: Event[]) => events.map((e) => (e.data as { n: number }).n);

test("while the broker refuses, events wait in order; once it takes them they go out first, then the new ones", async () => {
  let up = false;
  const sent: Event[] = [];
  const unsent = new UnsentEvents(async (e) => {
    if (!up) throw new Error("down");
    sent.push(e);
  }, silentLogger, "test");
  await unsent.publish(event(1)); // refused: kept, and publish still resolves
  await unsent.publish(event(2)); // behind it, not tried on its own
  expect(unsent.size).toBe(2);
  up = true;
  unsent.retryNow();
  await unsent.publish(event(3)); // queued behind the waiting ones, not sent ahead of them
  await waitFor(() => unsent.size === 0, 2_000, "the waiting events to go out");
  expect(numbers(sent)).toEqual([1, 2, 3]);
  await unsent.publish(event(4)); // straight through again
  expect(numbers(sent)).toEqual([1, 2, 3, 4]);
  unsent.close();
});

test("only the newest `max` are kept; after close nothing more is sent", async () => {
  let up = false;
  const sent: Event[] = [];
  const unsent = new UnsentEvents(async (e) => {
    if (!up) throw new Error("down");
    sent.push(e);
  }, silentLogger, "test", 3);
  for (let n = 1; n <= 5; n++) await unsent.publish(event(n));
  expect(unsent.size).toBe(3);
  up = true;
  unsent.retryNow();
  await waitFor(() => unsent.size === 0, 2_000, "the kept events to go out");
  expect(numbers(sent)).toEqual([3, 4, 5]);

  up = false;
  await unsent.publish(event(6));
  unsent.close();
  up = true;
  await Bun.sleep(300); // past the next retries: none happens after close
  expect(numbers(sent)).toEqual([3, 4, 5]);
});

const tooLarge = (e: Event) => new EventTooLargeError(e.type, e.id, 2_000, 1_000, "the test broker takes");

test("an event the broker refuses for good (EventTooLargeError) rejects its publish and is not kept: the events after it go straight out", async () => {
  const sent: Event[] = [];
  const unsent = new UnsentEvents(async (e) => {
    if ((e.data as { n: number }).n === 2) throw tooLarge(e);
    sent.push(e);
  }, silentLogger, "test");
  await unsent.publish(event(1));
  expect(await unsent.publish(event(2)).then(() => null, (error: unknown) => error)).toBeInstanceOf(EventTooLargeError);
  expect(unsent.size).toBe(0);
  await unsent.publish(event(3));
  expect(numbers(sent)).toEqual([1, 3]);
  unsent.close();
});

test("an event kept during an outage that the broker then refuses for good is dropped and logged; the events behind it go out", async () => {
  let up = false;
  const sent: Event[] = [];
  const logged: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const unsent = new UnsentEvents(async (e) => {
    if (!up) throw new Error("down");
    if ((e.data as { n: number }).n === 2) throw tooLarge(e);
    sent.push(e);
  }, { log: (level, msg, fields) => void logged.push({ level, msg, fields }) }, "test");
  const kept = [event(1), event(2), event(3)];
  for (const e of kept) await unsent.publish(e); // its publisher was answered: kept
  up = true;
  unsent.retryNow();
  await waitFor(() => unsent.size === 0, 2_000, "the kept events to go out");
  expect(numbers(sent)).toEqual([1, 3]);
  expect(logged).toContainEqual({ level: "error", msg: "test refuses an event kept while it was away: dropped", fields: expect.objectContaining({ id: kept[1]!.id, type: "tick" }) });
  unsent.close();
});
