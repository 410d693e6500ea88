import { expect, test } from "bun:test";
import { decodeTime } from "ulid";
import { requestIdSource } from "../../src/api/request-ids.ts";

test("request ids are ULID-shaped, carry their time, and increase within a millisecond and across", () => {
  let now = Date.UTC(2026, 11, 2, 14, 0, 0);
  const next = requestIdSource(() => now);
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) ids.push(next());
  now += 1;
  for (let i = 0; i < 1000; i++) ids.push(next());
  for (const id of ids) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  expect(decodeTime(ids[0]!)).toBe(now - 1);
  expect(decodeTime(ids.at(-1)!)).toBe(now);
  expect(new Set(ids).size).toBe(ids.length);
  expect([...ids].sort()).toEqual(ids);
});

test("two processes' request ids differ in the same millisecond", () => {
  const now = () => 1_700_000_000_000;
  const a = requestIdSource(now);
  const b = requestIdSource(now);
  expect(a().slice(10, 20)).not.toBe(b().slice(10, 20));
});
