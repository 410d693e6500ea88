// The registry's gauges are read at scrape time, some from another server: one that fails or
// hangs must leave its own series out, never the scrape.
import { expect, test } from "bun:test";
import { Counter, Gauge, Registry } from "../../src/ops/metrics.ts";

test("a gauge that throws, rejects or hangs is rendered without samples; the others are served", async () => {
  const registry = new Registry();
  registry.add(new Counter("served_total", "A counter.")).inc({ kind: "a" });
  registry.add(new Gauge("throws", "Throws.", () => { throw new Error("no"); }));
  registry.add(new Gauge("rejects", "Rejects.", async () => { throw new Error("no"); }));
  registry.add(new Gauge("hangs", "Never answers.", () => new Promise(() => {}), 50));
  registry.add(new Gauge("answers", "Answers late but in time.", async () => (await Bun.sleep(5), [{ labels: { state: "dead" }, value: 3 }]), 1_000));
  const text = await registry.render();
  expect(text).toContain('served_total{kind="a"} 1\n');
  expect(text).toContain('answers{state="dead"} 3\n');
  for (const name of ["throws", "rejects", "hangs"]) {
    expect(text).toContain(`# TYPE ${name} gauge\n`);
    expect(text).not.toMatch(new RegExp(`^${name}[ {]`, "m"));
  }
});
