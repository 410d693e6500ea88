import { describe, expect, test } from "bun:test";
import { isoTime } from "../../src/models/iso-time.ts";

describe("isoTime", () => {
  test("formats as Date#toISOString does, over the years, months and leap days", () => {
    const samples = [0, 1, 999, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999 /* 2100-02-28T23:59:59.999 */, Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.now()];
    // A prime step over 1970..2200 lands on every month, day and time of day in turn.
    for (let ms = 0; ms < Date.UTC(2200, 0, 1); ms += 86_400_000 * 13 + 3_723_457) samples.push(ms);
    for (const ms of samples) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  test("times outside 1970..9999 and fractions are Date's own", () => {
    for (const ms of [-1, -62_198_755_200_000, Date.UTC(10000, 0, 1), 1.5]) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  test("the same value twice gives the same text (the cache), and an invalid time still throws", () => {
    expect(isoTime(1_764_000_000_123)).toBe(isoTime(1_764_000_000_123));
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
  });
});
