// The Redis queue passes the same conformance suites as SQLite, memory and PostgreSQL — when
// REDIS_URL is set (.ci/run sets it) — plus what only Redis has: its keys, counters kept by
// the scripts, and a connection that drops and comes back. Each test gets its own key prefix.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { ManualClock } from "../../src/clock.ts";
import type { Outcome } from "../../src/jobs/queue.ts";
import { RedisQueue } from "../../src/jobs/redis.ts";
import { queueConformance, type QueueFactory } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";
import { engineUrl } from "../support/engines.ts";
import { waitFor } from "../support/wait.ts";
import { killChildren, spawnCommand } from "../support/child.ts";

const url = engineUrl("REDIS_URL", "Redis queue conformance", "redis://127.0.0.1:6379");
if (url) {
  const admin = new RedisClient(url);
  afterAll(() => admin.close());
  const keysOf = async (prefix: string) => {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = (await admin.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", "1000"])) as [string, string[]];
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  };
  const dropKeys = async (prefix: string) => {
    const keys = await keysOf(prefix);
    if (keys.length > 0) await admin.send("DEL", keys);
  };
  let n = 0;
  const freshPrefix = () => `conf-${process.pid}-${++n}`;
  const redis: QueueFactory = async (clock) => {
    const prefix = freshPrefix();
    const queue = new RedisQueue({ url, prefix, clock });
    await queue.migrate();
    const reopened: RedisQueue[] = [];
    return {
      queue,
      reopen: async () => {
        const again = new RedisQueue({ url, prefix, clock });
        await again.migrate();
        reopened.push(again);
        return again;
      },
      close: async () => {
        await queue.close();
        for (const again of reopened) await again.close();
        await dropKeys(prefix);
      },
    };
  };
  queueConformance("redis", redis, { transactionalEnqueue: false, durable: true });
  workerConformance("redis", redis);

  describe("redis queue", () => {
    const open = async (clock = new ManualClock()) => {
      const prefix = freshPrefix();
      const queue = new RedisQueue({ url, prefix, clock });
      await queue.migrate();
      return { queue, prefix, clock, done: async () => (await queue.close(), await dropKeys(prefix)) };
    };

    test("migrate is idempotent, and a queue without it still claims (the claim creates the group)", async () => {
      const { queue, prefix, done } = await open();
      await queue.migrate();
      await admin.send("DEL", [`${prefix}:dispatch`]);
      const id = await queue.enqueue({ type: "t" });
      expect((await queue.settleAndClaim([], 1, 1_000)).claimed.map((j) => j.id)).toEqual([id]);
      await done();
    });

    test("the consumer group's pending list is the set of running jobs, and a takeover moves them", async () => {
      const { queue, prefix, clock, done } = await open();
      const rescuer = new RedisQueue({ url, prefix, clock });
      const ids = await queue.enqueueMany([{ type: "t" }, { type: "t" }, { type: "t" }]);
      const { claimed } = await queue.settleAndClaim([], 2, 1_000);
      const pending = async () => (await admin.send("XPENDING", [`${prefix}:dispatch`, "workers"])) as [number, string, string, [string, string][] | null];
      expect((await pending())[3]).toEqual([[queue.ownerId, "2"]]);
      await queue.settleAndClaim([{ kind: "succeeded", job: claimed[0]!, result: {}, at: clock.now() }], 0, 1_000);
      expect((await pending())[0]).toBe(1);
      clock.advance(1_000);
      expect((await rescuer.takeExpired(5_000)).map((j) => j.id)).toEqual([ids[1]!]);
      expect((await pending())[3]).toEqual([[rescuer.ownerId, "1"]]);
      // The first owner's late outcome is dropped: the job is the rescuer's now.
      expect((await queue.settleAndClaim([{ kind: "succeeded", job: claimed[1]!, result: {}, at: clock.now() }], 0, 1_000)).applied).toEqual([]);
      expect((await rescuer.settleAndClaim([{ kind: "failed", job: claimed[1]!, error: "lease expired", retryAt: clock.now(), at: clock.now() }], 0, 1_000)).applied.length).toBe(1);
      expect((await pending())[0]).toBe(0);
      expect(await admin.send("XLEN", [`${prefix}:dispatch`])).toBe(0); // acknowledged entries are deleted
      await rescuer.close();
      await done();
    });

    test("state counts follow every transition, and succeeded jobs are not counted", async () => {
      const { queue, clock, done } = await open();
      const [a, b, c] = await queue.enqueueMany([{ type: "mail" }, { type: "mail" }, { type: "sms|text" }]);
      await queue.enqueueAt(clock.now() + 60_000, { type: "mail" });
      const { claimed } = await queue.settleAndClaim([], 3, 1_000);
      const byId = new Map(claimed.map((j) => [j.id, j]));
      await queue.settleAndClaim([
        { kind: "succeeded", job: byId.get(a!)!, result: {}, at: clock.now() },
        { kind: "dead", job: byId.get(b!)!, error: "x", at: clock.now() },
        { kind: "failed", job: byId.get(c!)!, error: "y", retryAt: clock.now() + 5, at: clock.now() },
      ], 0, 1_000);
      const sorted = async () => (await queue.stateCounts()).sort((x, y) => `${x.status}${x.type}`.localeCompare(`${y.status}${y.type}`));
      expect(await sorted()).toEqual([
        { status: "dead", type: "mail", n: 1 },
        { status: "enqueued", type: "mail", n: 1 },
        { status: "failed", type: "sms|text", n: 1 },
      ]);
      expect(await queue.retry(b!)).toBe("retried");
      expect(await queue.cancel(c!)).toBe("cancelled");
      expect(await sorted()).toEqual([
        { status: "cancelled", type: "sms|text", n: 1 },
        { status: "enqueued", type: "mail", n: 2 },
      ]);
      clock.advance(10);
      expect(await queue.pruneFinished(["cancelled", "succeeded"], clock.now(), 10)).toBe(2);
      expect(await sorted()).toEqual([{ status: "enqueued", type: "mail", n: 2 }]);
      await done();
    });

    test("pruning deletes finished jobs completed before the time, at most `limit`, and nothing else", async () => {
      const { queue, prefix, clock, done } = await open();
      const ids = await queue.enqueueMany(Array.from({ length: 4 }, () => ({ type: "t" })));
      const { claimed } = await queue.settleAndClaim([], 3, 1_000);
      await queue.settleAndClaim(claimed.map((job) => ({ kind: "succeeded", job, result: {}, at: clock.now() })), 0, 1_000);
      clock.advance(1);
      expect(await queue.pruneFinished(["succeeded"], clock.now(), 2)).toBe(2);
      expect(await queue.pruneFinished(["succeeded"], clock.now() - 1, 10)).toBe(0); // strictly before
      expect(await queue.pruneFinished(["succeeded", "dead"], clock.now(), 10)).toBe(1);
      const left = await Promise.all(ids.map((id) => queue.getStatus(id)));
      expect(left.map((s) => s?.status ?? null).filter(Boolean)).toEqual(["enqueued"]);
      expect(await admin.send("ZCARD", [`${prefix}:ids`])).toBe(1);
      expect(await admin.send("ZCARD", [`${prefix}:listed:succeeded|t`])).toBe(0); // the indexes forget them too
      expect(await admin.send("ZCARD", [`${prefix}:listed:enqueued|t`])).toBe(1);
      expect(await keysOf(`${prefix}:job`)).toHaveLength(1);
      await expect(Promise.resolve().then(() => queue.pruneFinished(["running" as never], clock.now(), 1))).rejects.toThrow(/not a finished status/);
      await done();
    });

    test("listings by status and type read a page from the index keys: the rows reading everything gives, and only the page's jobs", async () => {
      const { queue, prefix, clock, done } = await open();
      const types = ["send_receipt", "sync_stock", "a|b"]; // a type may hold "|"
      await queue.enqueueMany(Array.from({ length: 240 }, (_, i) => ({ type: types[i % 3]! })));
      // Spread the jobs over every state: some succeed, fail (then die), are cancelled, run.
      const { claimed } = await queue.settleAndClaim([], 120, 60_000);
      const outcomes: Outcome[] = claimed.slice(0, 100).map((job, i) =>
        i % 3 === 0 ? { kind: "succeeded" as const, job, result: {}, at: clock.now() }
        : i % 3 === 1 ? { kind: "failed" as const, job, error: "x", at: clock.now(), retryAt: clock.now() + 60_000 }
        : { kind: "dead" as const, job, error: "x", at: clock.now() });
      await queue.settleAndClaim(outcomes, 0, 60_000);
      const waiting = (await queue.listStatuses({ where: [[{ field: "status", op: "eq", value: "enqueued" }]], sort: [], limit: 20, offset: 0 })).rows;
      for (const row of waiting) await queue.cancel(String(row.id));

      const everything = { field: "attempts", op: "gte" as const, value: 0 }; // not indexable: reads every job
      const queries = [
        { where: [], sort: [{ field: "id", direction: "desc" as const }], limit: 25, offset: 0 },
        { where: [[{ field: "status", op: "eq" as const, value: "failed" }]], sort: [{ field: "id", direction: "desc" as const }], limit: 25, offset: 10 },
        { where: [[{ field: "type", op: "eq" as const, value: "a|b" }]], sort: [{ field: "created_at", direction: "asc" as const }], limit: 7, offset: 3 },
        { where: [[{ field: "status", op: "in" as const, value: ["dead", "cancelled"] }], [{ field: "type", op: "eq" as const, value: "sync_stock" }]], sort: [], limit: 100, offset: 0 },
        { where: [[{ field: "status", op: "eq" as const, value: "running" }, { field: "status", op: "eq" as const, value: "enqueued" }]], sort: [{ field: "id", direction: "asc" as const }], limit: 30, offset: 100 },
        { where: [[{ field: "status", op: "eq" as const, value: "nonsense" }]], sort: [], limit: 10, offset: 0 },
      ];
      for (const query of queries) {
        const indexed = await queue.listStatuses(query);
        const scanned = await queue.listStatuses({ ...query, where: [...query.where, [everything]] });
        expect(indexed.total).toBe(scanned.total);
        expect(indexed.rows).toEqual(scanned.rows);
      }
      expect((await queue.listStatuses(queries[1]!)).total).toBeGreaterThan(0);

      // Count the job hashes this queue reads, on its own connection (the server's command
      // statistics are shared with every other client of this Redis, and resetting them is not ours to do).
      const client = (queue as unknown as { client: { send(command: string, args: string[]): Promise<unknown> } }).client;
      const send = client.send.bind(client);
      const hashReads: string[] = [];
      client.send = (command, args) => {
        if (command.toUpperCase() === "HGETALL") hashReads.push(args[0]!);
        return send(command, args);
      };
      const page = await queue.listStatuses(queries[0]!);
      client.send = send;
      expect(page.rows).toHaveLength(25);
      expect(page.total).toBe(240);
      // The page's 25 jobs, not the 240 kept.
      expect(hashReads.length).toBe(25);
      expect(hashReads.sort()).toEqual(page.rows.map((r) => `${prefix}:job:${r.id}`).sort());
      await done();
    });

    test("a dead process's consumer is forgotten once idle with no running job; one holding a job is kept", async () => {
      const a = await open();
      const b = new RedisQueue({ url, prefix: a.prefix, clock: a.clock });
      const consumers = async () => ((await admin.send("XINFO", ["CONSUMERS", `${a.prefix}:dispatch`, "workers"])) as unknown[]).length;
      await a.queue.enqueue({ type: "t" });
      const { claimed } = await a.queue.settleAndClaim([], 1, 60_000);
      expect(await consumers()).toBe(1);
      expect(await b.forgetIdleConsumers(0)).toBe(0); // a holds a running job
      await a.queue.settleAndClaim([{ kind: "succeeded", job: claimed[0]!, result: {}, at: a.clock.now() }], 0, 60_000);
      // a "dies" without closing: its consumer stays, empty, until another process starts.
      expect(await b.forgetIdleConsumers(0)).toBe(1);
      expect(await consumers()).toBe(0);
      expect(await b.forgetIdleConsumers()).toBe(0); // idle under a minute: kept (none left anyway)
      // Had it been alive after all, its next claim makes the consumer again.
      await a.queue.enqueue({ type: "t" });
      expect((await a.queue.settleAndClaim([], 1, 60_000)).claimed).toHaveLength(1);
      expect(await consumers()).toBe(1);
      await b.close();
      await a.done();
    });

    test("jobs falling due together move into the claim order a bounded batch per claim, and all are claimed", async () => {
      const clock = new ManualClock();
      const prefix = freshPrefix();
      const queue = new RedisQueue({ url, prefix, clock, dueBatch: 10 });
      await queue.migrate();
      const ids = await queue.enqueueMany(Array.from({ length: 25 }, (_, i) => ({ type: "t", notBefore: clock.now() + 1_000 + i })));
      clock.advance(60_000); // all 25 fall due at once (say, after an outage)
      const first = (await queue.settleAndClaim([], 100, 60_000)).claimed;
      expect(first.map((j) => j.id)).toEqual(ids.slice(0, 10)); // one batch moved, in run_at order
      expect(await admin.send("ZCARD", [`${prefix}:delayed`])).toBe(15);
      const rest = [...(await queue.settleAndClaim([], 100, 60_000)).claimed, ...(await queue.settleAndClaim([], 100, 60_000)).claimed];
      expect(rest.map((j) => j.id)).toEqual(ids.slice(10));
      expect((await queue.settleAndClaim([], 100, 60_000)).claimed).toEqual([]);
      await queue.close();
      await dropKeys(prefix);
    });

    test("a priority outside the 32-bit range is refused before anything is stored", async () => {
      const { queue, done } = await open();
      await expect(queue.enqueue({ type: "t", priority: 2 ** 31 })).rejects.toThrow(/priority/);
      await expect(queue.enqueueMany([{ type: "t" }, { type: "t", priority: -(2 ** 31) - 1 }])).rejects.toThrow(/priority/);
      expect((await queue.settleAndClaim([], 10, 1_000)).claimed).toEqual([]);
      const low = await queue.enqueue({ type: "t", priority: -(2 ** 31) });
      const high = await queue.enqueue({ type: "t", priority: 2 ** 31 - 1 });
      expect((await queue.settleAndClaim([], 10, 1_000)).claimed.map((j) => j.id)).toEqual([high, low]);
      await done();
    });

    test("a job's enqueue in one process wakes a worker's listener in another (PUBLISH)", async () => {
      const { queue, prefix, clock, done } = await open();
      const other = new RedisQueue({ url, prefix, clock });
      let wakes = 0;
      const off = other.onAvailable(() => wakes++);
      await waitFor(async () => {
        await queue.enqueue({ type: "t" });
        return wakes > 0;
      }, 3_000, "a wake-up from the other queue's enqueue");
      off();
      await other.close();
      await done();
    });

    test("the keys are named under the prefix, and close() leaves no consumer behind", async () => {
      const { queue, prefix, done } = await open();
      const id = await queue.enqueue({ type: "t", groupKey: "g", uniqueKey: "u" });
      expect(await admin.send("HGET", [`${prefix}:job:${id}`, "status"])).toBe("enqueued");
      expect(await admin.send("HGET", [`${prefix}:unique`, "u"])).toBe(id);
      const { claimed } = await queue.settleAndClaim([], 1, 1_000);
      expect(await admin.send("HGET", [`${prefix}:groups`, "g"])).toBe(id);
      await queue.settleAndClaim([{ kind: "succeeded", job: claimed[0]!, result: {}, at: Date.now() }], 0, 1_000);
      await queue.close();
      expect(await admin.send("XINFO", ["CONSUMERS", `${prefix}:dispatch`, "workers"])).toEqual([]);
      await queue.close(); // twice is fine
      await expect(queue.enqueue({ type: "t" })).rejects.toThrow(/closed/);
      await done();
    });
  });
}

// A Redis of its own (the machine's redis-server binary) that the test kills and restarts.
const server = Bun.which("redis-server");
if (!server) console.warn("SKIPPED: Redis queue reconnection test (no redis-server binary)");
describe.if(server !== null)("redis queue connection", () => {
  afterEach(killChildren);
  test("calls reject while Redis is down, without crashing; after a restart calls and wake-ups work again", async () => {
    // A port the kernel just handed out (free a moment ago), and a check that the server that
    // answers on it is the one we started (its pid), not some other process that took it.
    const probeListener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probeListener.port;
    probeListener.stop(true);
    const startServer = async () => {
      const { proc } = spawnCommand([server!, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
      await waitFor(async () => {
        const probe = new RedisClient(`redis://127.0.0.1:${port}`, { maxRetries: 0 });
        const info = await probe.send("INFO", ["server"]).then(String, () => "");
        probe.close();
        if (info && !info.includes(`process_id:${proc.pid}`)) throw new Error(`port ${port} is answered by another Redis than the one this test started`);
        return info !== "";
      }, 5_000, "redis-server to listen").catch((error) => {
        proc.kill("SIGKILL");
        throw error;
      });
      return proc;
    };
    let proc = await startServer();
    const url = `redis://127.0.0.1:${port}`;
    const queue = new RedisQueue({ url, prefix: "reconnect" });
    const other = new RedisQueue({ url, prefix: "reconnect" });
    try {
      await queue.migrate();
      let wakes = 0;
      const off = queue.onAvailable(() => wakes++);
      const wokenByOther = async (what: string) => {
        const before = wakes;
        await waitFor(async () => {
          await other.enqueue({ type: "t" }).catch(() => {});
          return wakes > before;
        }, 8_000, what);
      };
      await wokenByOther("a wake-up before the restart");
      proc.kill("SIGKILL");
      await proc.exited;
      await expect(queue.enqueue({ type: "t" })).rejects.toThrow();
      proc = await startServer();
      await waitFor(() => queue.enqueue({ type: "t" }).then(() => true, () => false), 8_000, "an enqueue to succeed after the restart");
      await wokenByOther("a wake-up after the restart (the subscription renewed)");
      off();
    } finally {
      await queue.close();
      await other.close();
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }, 30_000);
});
