import { describe, expect, test } from "bun:test";
import { decodeTime, isValid } from "ulid";
import { monotonicFactory } from "../src/ulid.ts";

describe("monotonicFactory", () => {
  test("ids are valid ULIDs carrying the given time", () => {
    const next = monotonicFactory();
    const id = next(1_700_000_000_123);
    expect(isValid(id)).toBe(true);
    expect(decodeTime(id)).toBe(1_700_000_000_123);
    expect(Math.abs(decodeTime(next()) - Date.now())).toBeLessThan(1_000);
  });

  test("ids increase strictly within one millisecond and when the time goes back", () => {
    const next = monotonicFactory();
    const ids = [next(5_000), next(5_000), next(5_000), next(4_000), next(6_000), next(6_000)];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(decodeTime(ids[3]!)).toBe(5_000); // went back: keeps the last time
  });

  test("an increment carries over a maximal character", () => {
    const next = monotonicFactory();
    let id = next(7_000);
    for (let i = 0; i < 2_000; i++) {
      const following = next(7_000);
      expect(following > id).toBe(true);
      expect(following.length).toBe(26);
      id = following;
    }
  });

  test("random parts differ between generators", () => {
    const ids = Array.from({ length: 100 }, () => monotonicFactory()(9_000));
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(100);
  });

  test("a time out of range is refused", () => {
    expect(() => monotonicFactory()(-5)).toThrow(/ULID's time/);
    expect(() => monotonicFactory()(2 ** 48)).toThrow(/ULID's time/);
    expect(() => monotonicFactory()(1.5)).toThrow(/ULID's time/);
  });
});

test("a given random source makes the random part", () => {
  const id = monotonicFactory(() => 0.999)(9_000);
  expect(id.slice(10)).toBe("Z".repeat(16));
  expect(monotonicFactory(() => 0)(9_000).slice(10)).toBe("0".repeat(16));
});
