import { expect, test } from "bun:test";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { compilePattern, InvalidPatternError } from "../../src/events/pattern.ts";
import { silentLogger } from "../../src/log.ts";
import { waitFor } from "../support/wait.ts";
import { busConformance } from "./bus-conformance.ts";

busConformance("in-process", () => new InProcessBus({ logger: silentLogger }));

test("pattern matching table", () => {
  const table: [string, string, boolean][] = [
    ["order.created", "order.created", true],
    ["order.created", "order.updated", false],
    ["order.*", "order.created", true],
    ["order.*", "order", false],
    ["order.*", "order.line.added", false],
    ["*.created", "book.created", true],
    ["job.*.completed", "job.send_receipt.completed", true],
    ["job.*.completed", "job.send_receipt.failed", false],
    ["job.>", "job.send_receipt.completed", true],
    ["job.>", "job.x", true],
    ["job.>", "job", false],
    [">", "anything.at.all", true],
    ["*", "one", true],
    ["*", "one.two", false],
  ];
  for (const [pattern, type, expected] of table) expect([pattern, type, compilePattern(pattern)(type)]).toEqual([pattern, type, expected]);
});

test("malformed patterns are refused", () => {
  for (const bad of ["", "a..b", "job.>.x", "jo*b", "a.b>"]) expect(() => compilePattern(bad)).toThrow(InvalidPatternError);
});

test("a hung subscriber's queue is bounded: its oldest events are dropped, memory does not grow", async () => {
  const bus = new InProcessBus({ logger: silentLogger, maxQueued: 10 });
  const seen: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  bus.subscribe("n", async (e) => {
    await gate;
    seen.push(e.data as number);
  });
  for (let i = 0; i < 100; i++) await bus.publish("n", i);
  release();
  await waitFor(() => seen.at(-1) === 99, 5_000, "the newest event");
  expect(seen.length).toBeLessThanOrEqual(11);
  expect(seen.at(-1)).toBe(99);
});
