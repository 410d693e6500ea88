// One event bus under load, for bench/adapters.ts: 10 subscribers on different wildcard
// patterns that all match, N events published with a bounded window of events not yet
// delivered to every subscriber (so a fire-and-forget publish cannot pile up unbounded in a
// client buffer, and no subscriber queue nears its 10,000-event drop limit), every delivery
// checked off — missing and duplicate deliveries are counted, never assumed — and its
// publish→deliver latency read from the send time stamped in the payload (one process, one
// clock). Never used to judge correctness elsewhere: the conformance suites do that.
import type { EventBus } from "../../src/events/bus.ts";
import type { Event } from "../../src/events/event.ts";
import { compilePattern } from "../../src/events/pattern.ts";
import type { Logger } from "../../src/log.ts";

/** Every one matches both event types below: N events make exactly N × 10 deliveries. */
export const PATTERNS = ["order.>", "order.line.*", "order.*.*", "*.line.*", "*.*.*", ">", "*.>", "order.line.>", "*.line.>", "*.*.>"];
const TYPES = ["order.line.added", "order.line.removed"];
for (const p of PATTERNS) if (!TYPES.every(compilePattern(p))) throw new Error(`pattern ${p} must match every bench event type`);

export interface BusCase {
  /** Bus that publishes, and bus that holds the subscriptions (the same one in-process). */
  publisher: EventBus;
  subscriber: EventBus;
  /** Subscribes one handler; `index` keeps durable names (queue, group, consumer) apart. */
  subscribe(pattern: string, handler: (event: Event) => void, index: number): void;
}

export interface BusRun {
  events: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  publishErrors: number;
  publishPerS: number;
  deliveriesPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  seconds: number;
}

interface Run {
  id: number;
  events: number;
  seen: Uint8Array;
  latencies: Float64Array;
  delivered: number;
  duplicates: number;
  lastDeliveryAt: number;
  wake: (() => void) | null;
  wakeAt: number;
}

/** Subscribes PATTERNS once; then `run(events)` as many times as wanted (a warm-up, then the measured run). */
export async function subscribeAll(c: BusCase): Promise<{ run(events: number, window: number, stallMs: number): Promise<BusRun> }> {
  const S = PATTERNS.length;
  let current: Run | null = null;
  PATTERNS.forEach((pattern, s) =>
    c.subscribe(pattern, (event) => {
      const at = performance.now();
      const data = event.data as { run: number; i: number; sent: number };
      const r = current;
      if (!r || data.run !== r.id) return; // a straggler from an earlier run
      const slot = data.i * S + s;
      if (r.seen[slot]) return void r.duplicates++;
      r.seen[slot] = 1;
      r.latencies[r.delivered++] = at - data.sent;
      r.lastDeliveryAt = at;
      if (r.wake && r.delivered >= r.wakeAt) r.wake();
    }, s),
  );
  await c.subscriber.ready?.();
  let runs = 0;

  async function run(events: number, window: number, stallMs: number): Promise<BusRun> {
    const r: Run = { id: ++runs, events, seen: new Uint8Array(events * S), latencies: new Float64Array(events * S), delivered: 0, duplicates: 0, lastDeliveryAt: 0, wake: null, wakeAt: 0 };
    current = r;
    // Resolves true once `delivered` reaches `target`, false after `stallMs` without a delivery.
    const reach = (target: number) =>
      new Promise<boolean>((resolve) => {
        if (r.delivered >= target) return resolve(true);
        let last = r.delivered;
        const timer = setInterval(() => {
          if (r.delivered === last) finish(false);
          last = r.delivered;
        }, stallMs);
        const finish = (ok: boolean) => {
          clearInterval(timer);
          r.wake = null;
          resolve(ok);
        };
        r.wakeAt = target;
        r.wake = () => finish(true);
      });
    let published = 0;
    let settled = 0;
    let publishErrors = 0;
    let lastPublishAt = 0;
    const allSettled = Promise.withResolvers<void>();
    const t0 = performance.now();
    while (published < events) {
      while (published < events && published - r.delivered / S < window) {
        const i = published++;
        const done = (ok: boolean) => {
          if (!ok) publishErrors++;
          lastPublishAt = performance.now();
          if (++settled === events) allSettled.resolve();
        };
        c.publisher.publish(TYPES[i % TYPES.length]!, { run: r.id, i, sent: performance.now() }).then(() => done(true), () => done(false));
      }
      // Refill when half the window has been delivered everywhere (window 1: one event at a time).
      if (published < events && !(await reach((published - Math.floor(window / 2)) * S))) break;
    }
    const expected = events * S;
    const complete = published === events && (await reach(expected));
    await Promise.race([allSettled.promise, Bun.sleep(complete ? 5_000 : 0)]);
    await Bun.sleep(100); // late duplicates show up here
    current = null;
    const end = r.lastDeliveryAt || performance.now();
    const sorted = r.latencies.subarray(0, r.delivered).sort();
    const pct = (p: number) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(3) : NaN);
    return {
      events,
      expected,
      delivered: r.delivered,
      missing: expected - r.delivered,
      duplicates: r.duplicates,
      publishErrors: publishErrors + (events - published),
      publishPerS: settled === events ? Math.round(events / ((lastPublishAt - t0) / 1000)) : NaN,
      deliveriesPerS: Math.round(r.delivered / ((end - t0) / 1000)),
      p50Ms: pct(50),
      p99Ms: pct(99),
      maxMs: sorted.length ? +sorted[sorted.length - 1]!.toFixed(3) : NaN,
      seconds: +((end - t0) / 1000).toFixed(2),
    };
  }
  return { run };
}

/** A logger that counts what the buses warn about (a subscriber dropping events, a failed read). */
export function countingLogger(): Logger & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    log(level, msg) {
      if (level === "warn" || level === "error") counts[msg] = (counts[msg] ?? 0) + 1;
    },
    enabled: (level) => level === "warn" || level === "error",
  };
}
