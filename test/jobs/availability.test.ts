import { expect, test } from "bun:test";
import { AvailabilitySignal } from "../../src/jobs/availability.ts";

test("a burst of signals in one synchronous run wakes each listener once", async () => {
  const signal = new AvailabilitySignal();
  let wakes = 0;
  signal.subscribe(() => wakes++);
  for (let i = 0; i < 1_000; i++) signal.notify();
  await Bun.sleep(0);
  expect(wakes).toBe(1);
  signal.notify();
  await Bun.sleep(0);
  expect(wakes).toBe(2);
});
