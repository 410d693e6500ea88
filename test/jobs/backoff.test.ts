import { expect, test } from "bun:test";
import { afterFailure, backoffDelay } from "../../src/jobs/backoff.ts";

test("the delay doubles from 1 s per failed attempt and is capped at 5 minutes", () => {
  const exact = { random: () => 0.5 }; // jitter centred: no change
  expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, exact))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  expect(backoffDelay(9, exact)).toBe(256_000);
  expect(backoffDelay(10, exact)).toBe(300_000);
  expect(backoffDelay(60, exact)).toBe(300_000);
});

test("jitter spreads the delay by ±10% by default and never exceeds the cap", () => {
  expect(backoffDelay(3, { random: () => 0 })).toBe(3_600);
  expect(backoffDelay(3, { random: () => 0.999999 })).toBe(4_400);
  expect(backoffDelay(20, { random: () => 0.999999 })).toBe(300_000);
  const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
  expect(spread.size).toBeGreaterThan(10);
  for (const d of spread) expect(d).toBeWithin(7_200, 8_801);
});

test("after the last allowed attempt the job is dead; before it, a retry is scheduled", () => {
  expect(afterFailure(1, 3, 10_000, { random: () => 0.5 })).toEqual({ status: "failed", retryAt: 11_000 });
  expect(afterFailure(2, 3, 10_000, { random: () => 0.5 })).toEqual({ status: "failed", retryAt: 12_000 });
  expect(afterFailure(3, 3, 10_000)).toEqual({ status: "dead" });
  expect(afterFailure(1, 1, 10_000)).toEqual({ status: "dead" });
});
