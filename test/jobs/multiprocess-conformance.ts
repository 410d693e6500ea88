// Worker processes on one shared queue, for every engine that has them (PostgreSQL, Redis):
// no job runs twice while both processes live, group keys hold across processes, and killing
// one hands its jobs to the other after the lease. Real processes, real SIGKILL.
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { Queue, StatusReader } from "../../src/jobs/queue.ts";
import { killChildren, spawnBun, type Child } from "../support/child.ts";
import { waitFor } from "../support/wait.ts";
import type { Run } from "./fixtures/worker-process.ts";

export interface MultiProcessFixture {
  queue: Queue & StatusReader;
  /** The worker process: a script under test/jobs/fixtures and its arguments (the lease follows them). */
  worker: { script: string; args: string[] };
  /** Every run recorded by the worker processes, in start order. */
  runs(): Promise<Run[]>;
  /** Engine-specific checks once every job of a test has finished (nothing left behind). */
  assertSettled?(): Promise<void>;
  close(): Promise<void>;
}

export interface MultiProcessSuite {
  fixture(): MultiProcessFixture;
  start(leaseMs?: number): Promise<Child>;
}

export function multiProcessConformance(name: string, open: () => Promise<MultiProcessFixture>): MultiProcessSuite {
  let fixture: MultiProcessFixture;
  beforeEach(async () => {
    fixture = await open();
  });
  afterEach(async () => {
    await killChildren();
    await fixture.close();
  });
  const start = async (leaseMs = 30_000) => {
    const child = spawnBun(fixture.worker.script, [...fixture.worker.args, String(leaseMs)]);
    await child.waitForLine(/^ready$/);
    return child;
  };

  test(`${name}: two processes share the work: every job runs exactly once, and no two jobs of a key overlap`, async () => {
    await Promise.all([start(), start()]);
    const jobs = Array.from({ length: 300 }, (_, n) => ({ type: "work", groupKey: n % 3 === 0 ? `store-${n % 4}` : null, payload: { n } }));
    await fixture.queue.enqueueMany(jobs);
    await waitFor(async () => (await fixture.runs()).length >= 300, 30_000, "300 runs");
    // Every run is recorded before its job settles: once all 300 succeeded, the record is complete.
    await waitFor(async () => (await fixture.queue.listStatuses({ where: [[{ field: "status", op: "eq", value: "succeeded" }]], sort: [], limit: 1, offset: 0 })).total === 300, 30_000, "300 jobs succeeded");
    const all = await fixture.runs();
    expect(all.length).toBe(300);
    expect(new Set(all.map((r) => r.job_id)).size).toBe(300);
    expect(new Set(all.map((r) => r.pid)).size).toBe(2); // both did work
    const byKey = new Map<string, Run[]>();
    for (const r of all) if (r.group_key) byKey.set(r.group_key, [...(byKey.get(r.group_key) ?? []), r]);
    let overlaps = 0;
    for (const list of byKey.values()) for (let i = 1; i < list.length; i++) if (list[i]!.started < list[i - 1]!.finished) overlaps++;
    expect(overlaps).toBe(0);
  }, 60_000);

  test(`${name}: killing a worker mid-run hands its jobs to the other after the lease`, async () => {
    const doomed = await start(1_000);
    const ids = await fixture.queue.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "work", payload: { n } })));
    await waitFor(async () => (await fixture.runs()).length >= 5, 10_000, "the first runs");
    doomed.proc.kill("SIGKILL");
    await doomed.proc.exited;
    const states = async () => Promise.all(ids.map((id) => fixture.queue.getStatus(id)));
    const stranded = (await states()).filter((s) => s?.status === "running").length;
    const survivor = await start(1_000);
    await waitFor(async () => (await states()).every((s) => s?.status === "succeeded"), 30_000, "all 40 jobs to succeed");
    const all = await fixture.runs();
    expect(new Set(all.map((r) => r.job_id)).size).toBe(40);
    expect(all.some((r) => r.pid === survivor.proc.pid)).toBe(true);
    // The jobs the dead process held were taken over and ran. Only those whose handler had
    // started (at most its 4 slots) spent an attempt; those it had claimed ahead run as attempt 1.
    expect(stranded).toBeGreaterThan(0);
    const rerun = all.filter((r) => r.pid === survivor.proc.pid && r.attempt > 1);
    expect(rerun.length).toBeLessThanOrEqual(Math.min(4, stranded));
    expect(rerun.every((r) => r.attempt === 2)).toBe(true);
    await fixture.assertSettled?.();
  }, 60_000);

  return { fixture: () => fixture, start };
}
