// Two worker processes on one Redis queue: no job runs twice while both are alive, group keys
// hold across them, and killing one hands its jobs to the other after the lease.
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { RedisQueue } from "../../src/jobs/redis.ts";
import { spawnBun, type Child } from "../support/child.ts";
import { waitFor } from "../support/wait.ts";
import { engineUrl } from "../support/engines.ts";

const url = engineUrl("REDIS_URL", "Redis multi-process tests", "redis://127.0.0.1:6379");
if (url) {
  const admin = new RedisClient(url);
  afterAll(() => admin.close());
  let prefix: string;
  let queue: RedisQueue;
  let children: Child[];
  beforeEach(async () => {
    prefix = `mp-${process.pid}-${Date.now() % 100000}`;
    queue = new RedisQueue({ url, prefix });
    await queue.migrate();
    children = [];
  });
  afterEach(async () => {
    for (const c of children) c.proc.kill("SIGKILL");
    await Promise.all(children.map((c) => c.proc.exited));
    await queue.close();
    let cursor = "0";
    do {
      const [next, keys] = (await admin.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [string, string[]];
      if (keys.length > 0) await admin.send("DEL", keys);
      cursor = next;
    } while (cursor !== "0");
  });
  const start = async (leaseMs = 30_000) => {
    const child = spawnBun("test/jobs/fixtures/redis-worker.ts", [url, prefix, String(leaseMs)]);
    children.push(child);
    await child.waitForLine(/^ready$/);
    return child;
  };
  interface Run { job_id: string; group_key: string | null; attempt: number; started: number; finished: number; pid: number }
  const runs = async () => ((await admin.send("LRANGE", [`${prefix}:test-runs`, "0", "-1"])) as string[]).map((r) => JSON.parse(r) as Run).sort((a, b) => a.started - b.started);

  test("two processes share the work: every job runs exactly once, and no two jobs of a key overlap", async () => {
    await Promise.all([start(), start()]);
    const jobs = Array.from({ length: 300 }, (_, n) => ({ type: "work", groupKey: n % 3 === 0 ? `store-${n % 4}` : null, payload: { n } }));
    await queue.enqueueMany(jobs);
    await waitFor(async () => (await runs()).length >= 300, 30_000, "300 runs");
    await Bun.sleep(100);
    const all = await runs();
    expect(all.length).toBe(300);
    expect(new Set(all.map((r) => r.job_id)).size).toBe(300);
    expect(new Set(all.map((r) => r.pid)).size).toBe(2); // both did work
    const byKey = new Map<string, Run[]>();
    for (const r of all) if (r.group_key) byKey.set(r.group_key, [...(byKey.get(r.group_key) ?? []), r]);
    let overlaps = 0;
    for (const list of byKey.values()) for (let i = 1; i < list.length; i++) if (list[i]!.started < list[i - 1]!.finished) overlaps++;
    expect(overlaps).toBe(0);
  }, 60_000);

  test("killing a worker mid-run hands its jobs to the other after the lease", async () => {
    const doomed = await start(1_000);
    const ids = await queue.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "work", payload: { n } })));
    await waitFor(async () => (await runs()).length >= 5, 10_000, "the first runs");
    doomed.proc.kill("SIGKILL");
    await doomed.proc.exited;
    const stranded = (await Promise.all(ids.map((id) => queue.getStatus(id)))).filter((s) => s?.status === "running").length;
    const survivor = await start(1_000);
    await waitFor(async () => (await Promise.all(ids.map((id) => queue.getStatus(id)))).every((s) => s?.status === "succeeded"), 30_000, "all 40 jobs to succeed");
    const all = await runs();
    expect(new Set(all.map((r) => r.job_id)).size).toBe(40);
    expect(all.some((r) => r.pid === survivor.proc.pid)).toBe(true);
    // Jobs the dead process held were taken over: each ran again as a later attempt.
    expect(stranded).toBeGreaterThan(0);
    expect(all.filter((r) => r.pid === survivor.proc.pid && r.attempt > 1).length).toBe(stranded);
    // And nothing is left pending in the consumer group.
    expect(((await admin.send("XPENDING", [`${prefix}:dispatch`, "workers"])) as [number])[0]).toBe(0);
  }, 60_000);
}
