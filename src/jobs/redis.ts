// The job queue on Redis (Bun's built-in client), for high-throughput fleets: many worker
// processes on one Redis. Same semantics as the SQLite and PostgreSQL queues, EXCEPT that
// enqueue cannot join a caller's database transaction (`transactionalEnqueue` is false):
// enqueue after your commit, or use the SQLite/PostgreSQL queue when a job must be atomic
// with a write.
//
// Design (keys and scripts: redis-scripts.ts; the hash layout: redis-rows.ts):
// - Every transition is ONE Lua script, so no process sees half of one. Redis does not roll
//   back a script that fails part-way, so all input is validated here first. Times come from
//   the injected clock as arguments, never from Redis's TIME.
// - A job is a hash holding its status row: getStatus is one HGETALL.
// - Due jobs wait in a sorted set in claim order (priority, run_at, id); future ones and
//   retries in a set by run_at, moved over by the claim when due. A job whose group key is
//   held is parked under its key and unparked when the key is freed, so a backlog of one key
//   is stepped over once, not on every claim (as in SQLite).
// - Claimed jobs are delivered through a stream's consumer group, one consumer per queue
//   instance (`ownerId`): XPENDING lists the running jobs of each process. Leases are a
//   sorted set of deadlines on the injected clock; a lapsed job's entry moves to its rescuer
//   with XCLAIM. XAUTOCLAIM is not used: it selects by idle time measured on the server's
//   clock, which would disagree with the leases (and with tests that move a ManualClock).
// - Listings filtered by status and type, newest or oldest first (the dashboard's), read index
//   keys the scripts keep, a page at a time (redis-listing.ts); other filters read every job
//   kept (retention keeps that bounded). stateCounts reads counters the scripts keep.
// - Idle workers in every process wake on PUBLISH (redis-wakeups.ts).
// - A lost connection makes calls reject (within about 3 s) rather than crash; the worker
//   retries, and the next call reconnects. Redis ≥ 7.0, not Redis Cluster (the scripts name
//   keys at run time).
import { RedisClient, type RedisOptions } from "bun";
import { monotonicFactory } from "../ulid.ts";
import { systemClock, type Clock } from "../clock.ts";
import { listInMemory, type ListQuery } from "../db/list-query.ts";
import { AvailabilitySignal } from "./availability.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord } from "./new-job.ts";
import { attemptEntry } from "./attempt-history.ts";
import { MAX_REQUEUES, type CancelResult, type Cancellable, type ClaimOptions, type Deletable, type DeleteResult, type Outcome, type Prunable, type Queue, type QueueControl, type QueueState, type Retryable, type RetryResult, type Source, type StateCount, type StatusReader } from "./queue.ts";
import { mergeQueueStates } from "./queue-states.ts";
import { checkPriority, flatten, hashToRow, hashToStatusRow, readyOrder, toInsert, toRecord, type RedisInsert } from "./redis-rows.ts";
import * as Lua from "./redis-scripts.ts";
import { JOB_STATUSES, planListing } from "./redis-listing.ts";
import { RedisWakeups } from "./redis-wakeups.ts";
import { rowToJob, rowToState } from "./rows.ts";
import type { StatusRow } from "./status-columns.ts";
import type { Job, JobState, JobStatus, NewJob } from "./types.ts";

export interface RedisQueueOptions {
  /** Default redis://127.0.0.1:6379. */
  url?: string;
  /** Prefix of every key and of the channel. Default "backroom". */
  prefix?: string;
  clock?: Clock;
  /** Jobs fallen due that one claim moves into the claim order at most (the rest, on the next ones). Default 10,000. */
  dueBatch?: number;
}

// Bun retries a lost connection 20 times (about 30 s) while calls wait; 6 tries (about 3 s)
// hide a blip, and a longer outage reaches the worker as an error it retries on its own.
const CONNECTION: RedisOptions = { maxRetries: 6 };
const FINISHED: ReadonlySet<string> = new Set(["succeeded", "dead", "cancelled"]);

export class RedisQueue implements Queue, Source, Cancellable, Retryable, StatusReader, Prunable, Deletable, QueueControl {
  readonly transactionalEnqueue = false;
  readonly ownerId = monotonicFactory()();
  private readonly client: RedisClient;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly dueBatch: number;
  private readonly nextId = monotonicFactory();
  private readonly available = new AvailabilitySignal();
  private readonly wakeups: RedisWakeups;
  private readonly shas = new Map<string, string>();
  private listeners = 0;
  private connecting: Promise<void> | null = null;
  private closed = false;

  constructor(options: RedisQueueOptions = {}) {
    const url = options.url ?? "redis://127.0.0.1:6379";
    this.prefix = options.prefix ?? "backroom";
    if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(this.prefix)) throw new Error(`prefix must be 1–100 of A-Z a-z 0-9 _ . : -, got "${this.prefix}"`);
    this.clock = options.clock ?? systemClock;
    this.dueBatch = Math.max(1, Math.floor(options.dueBatch ?? 10_000));
    this.client = new RedisClient(url, CONNECTION);
    this.wakeups = new RedisWakeups(url, CONNECTION, `${this.prefix}:available`, () => this.available.notify());
  }

  /** Checks the Redis version, and creates the dispatch stream and its consumer group if missing (idempotent). */
  async migrate(): Promise<void> {
    const info = String(await this.send("INFO", ["server"]));
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    // The scripts' `#!lua` line (and ZRANGE BYSCORE) need 7.0; older servers fail on every call.
    if (version && Number(version[1]) < 7) throw new Error(`the Redis queue needs Redis 7.0 or later; this server is ${version[1]}.${version[2]}`);
    await this.send("XGROUP", ["CREATE", this.key("dispatch"), "workers", "$", "MKSTREAM"]).catch((error: Error) => {
      if (!/BUSYGROUP/.test(error.message)) throw error;
    });
    await this.run(Lua.MIGRATE_QUEUES, {});
    await this.forgetIdleConsumers();
  }

  /**
   * Removes consumers that hold no running job and have been idle past `idleMs`: those of
   * processes that died (a closing one removes its own). A live one removed while idle is
   * created again by its next claim, so nothing is lost either way.
   */
  async forgetIdleConsumers(idleMs = 60_000): Promise<number> {
    const consumers = (await this.send("XINFO", ["CONSUMERS", this.key("dispatch"), "workers"])) as Record<string, unknown>[] | unknown[][];
    let removed = 0;
    for (const consumer of consumers.map(fieldsOf)) {
      if (consumer.name === this.ownerId || Number(consumer.pending) !== 0 || Number(consumer.idle) < idleMs) continue;
      removed += Number(await this.run(Lua.FORGET_CONSUMER, { owner: String(consumer.name) }));
    }
    return removed;
  }

  /** Closes both connections; this owner's consumer is removed if it holds no running job. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.client.connected) await this.run(Lua.FORGET_CONSUMER, { owner: this.ownerId }).catch(() => {});
    this.closed = true;
    this.wakeups.close();
    this.client.close();
  }

  // ── Queue ───────────────────────────────────────────────────────────────────────────────

  async enqueue(job: NewJob): Promise<string> {
    const [id] = await this.enqueueMany([job]);
    return id!;
  }

  enqueueAt(at: number | Date, job: NewJob): Promise<string> {
    return this.enqueue({ ...job, notBefore: at });
  }

  /** One script: every job is stored, or (on a refused input) none is sent. */
  async enqueueMany(jobs: readonly NewJob[]): Promise<string[]> {
    const now = this.clock.now();
    const inserts = jobs.map((job) => this.prepare(job, now));
    if (inserts.length === 0) return [];
    const ids = (await this.run(Lua.ENQUEUE, { now: String(now), jobs: inserts })) as string[];
    // Other processes wake on the script's PUBLISH; ours need not wait for the round trip.
    this.available.notify();
    return ids;
  }

  // ── Source ──────────────────────────────────────────────────────────────────────────────

  async settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options: ClaimOptions = {}): Promise<{ claimed: Job[]; applied: Outcome[] }> {
    const started = options.started ?? [];
    if (outcomes.length === 0 && max <= 0 && started.length === 0) return { claimed: [], applied: [] };
    const now = this.clock.now();
    const encoded = outcomes.map((outcome) => this.encodeOutcome(outcome, now));
    const claimCount = Math.max(0, Math.floor(max));
    const [applied, claimed] = (await this.run(Lua.SETTLE_AND_CLAIM, {
      now: String(now), owner: this.ownerId, max: String(claimCount), start_now: String(Math.max(0, Math.floor(options.startNow ?? claimCount))),
      started, due_batch: String(this.dueBatch), lease_until: String(now + leaseMs), outcomes: encoded,
      allowances: Object.fromEntries(Object.entries(options.queueAllowances ?? {}).map(([q, n]) => [q, String(Math.max(0, Math.floor(n)))])),
    })) as [number[], string[][]];
    return {
      applied: applied.map((i) => outcomes[i]!),
      claimed: claimed.map((hash) => {
        const record = toRecord(hash);
        const job = rowToJob(hashToRow(record));
        // A job claimed ahead is told the attempt it will be once it starts.
        return record.attempt_started === "0" ? { ...job, attempt: job.attempt + 1 } : job;
      }),
    };
  }

  async extendLeases(ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.run(Lua.EXTEND_LEASES, { owner: this.ownerId, lease_until: String(this.clock.now() + leaseMs), ids });
  }

  async takeExpired(leaseMs: number): Promise<Job[]> {
    const now = this.clock.now();
    const taken = (await this.run(Lua.TAKE_EXPIRED, { now: String(now), owner: this.ownerId, lease_until: String(now + leaseMs), max_requeues: String(MAX_REQUEUES) })) as string[][];
    return taken.map((hash) => rowToJob(hashToRow(toRecord(hash))));
  }

  /** The first delayed job not in a paused queue (of the next 50; past those, the 50th's time: one spare wake-up). */
  async nextDueAt(after: number): Promise<number | null> {
    const reply = (await this.send("ZRANGE", [this.key("delayed"), `(${after}`, "+inf", "BYSCORE", "LIMIT", "0", "50", "WITHSCORES"])) as unknown[];
    // RESP3 (Bun's default) answers [[member, score]]; RESP2 would answer [member, score, …].
    const entries: [string, number][] = Array.isArray(reply[0])
      ? (reply as [string, string][]).map(([id, score]) => [id, Number(score)])
      : Array.from({ length: reply.length / 2 }, (_, i) => [String(reply[2 * i]), Number(reply[2 * i + 1])]);
    if (entries.length === 0) return null;
    const paused = toRecord((await this.send("HGETALL", [this.key("paused")])) as Record<string, string>);
    if (!Object.values(paused).includes("1")) return entries[0]![1];
    const queues = await Promise.all(entries.map(([id]) => this.send("HGET", [this.key("job", id), "queue"]) as Promise<string | null>));
    const open = entries.find((_, i) => paused[queues[i] ?? "default"] !== "1");
    return (open ?? entries[entries.length - 1]!)[1];
  }

  /** Wakes on PUBLISH from any process's enqueue, and at once on this process's own. */
  onAvailable(listener: () => void): () => void {
    const off = this.available.subscribe(listener);
    if (this.listeners++ === 0) this.wakeups.want(true);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      off();
      if (--this.listeners === 0) this.wakeups.want(false);
    };
  }

  // ── Cancellable, Retryable, StatusReader, Prunable ──────────────────────────────────────

  async cancel(id: string): Promise<CancelResult> {
    return (await this.run(Lua.CANCEL, { id, now: String(this.clock.now()) })) as CancelResult;
  }

  async retry(id: string): Promise<RetryResult> {
    const now = this.clock.now();
    return (await this.run(Lua.RETRY, { id, now: String(now), order: readyOrder(now, id) })) as RetryResult;
  }

  async getStatus(id: string): Promise<JobState | null> {
    const hash = toRecord((await this.send("HGETALL", [this.key("job", id)])) as Record<string, string>);
    return hash.status === undefined ? null : rowToState(hashToRow(hash));
  }

  async stateCounts(): Promise<StateCount[]> {
    const counts = toRecord((await this.send("HGETALL", [this.key("counts")])) as Record<string, string>);
    return Object.entries(counts).map(([field, n]) => {
      const bar = field.indexOf("|"); // status names hold no "|"; a type may
      return { status: field.slice(0, bar) as JobStatus, type: field.slice(bar + 1), n: Number(n) };
    });
  }

  /**
   * Filtered by status and type and sorted by id or created_at (the dashboard's listings): a
   * page's worth from each index key that can hold a match (redis-listing.ts). Anything else
   * reads every job kept, in pipelined batches.
   */
  async listStatuses(query: ListQuery): Promise<{ rows: StatusRow[]; total: number }> {
    const plan = planListing(query);
    if (!plan) return listInMemory(await this.readRows((await this.send("ZRANGE", [this.key("ids"), "0", "-1"])) as string[]), query);
    const types = plan.types ?? ((await this.send("SMEMBERS", [this.key("types")])) as string[]);
    const keys = plan.statuses === null && plan.types === null
      ? [this.key("ids")]
      : (plan.statuses ?? JOB_STATUSES).flatMap((status) => types.map((type) => this.key("listed", `${status}|${type}`)));
    const wanted = String(query.offset + query.limit);
    // A keyset position is its id (the last key): created_at sorts as the id does here.
    const from = query.after ? `(${String(query.after[query.after.length - 1])}` : null;
    const range = plan.direction === "desc" ? [from ?? "+", "-", "BYLEX", "REV"] : [from ?? "-", "+", "BYLEX"];
    const [sizes, ranges] = await Promise.all([
      Promise.all(keys.map((key) => (query.skipTotal ? 0 : (this.send("ZCARD", [key]) as Promise<number>)))),
      Promise.all(keys.map((key) => this.send("ZRANGE", [key, ...range, "LIMIT", "0", wanted]) as Promise<string[]>)),
    ]);
    const ids = ranges.flat().sort();
    if (plan.direction === "desc") ids.reverse();
    const total = sizes.reduce((a, b) => a + b, 0);
    return { rows: await this.readRows(ids.slice(query.offset, query.offset + query.limit)), total: query.countLimit ? Math.min(query.countLimit, total) : total };
  }

  async delete(id: string): Promise<DeleteResult> {
    return (await this.run(Lua.DELETE, { id })) as DeleteResult;
  }

  async setQueuePaused(name: string, paused: boolean, ifUnset = false): Promise<void> {
    await this.run(Lua.SET_PAUSED, { name, paused: paused ? "1" : "0", ...(ifUnset ? { if_unset: "1" } : {}) });
    if (!paused) this.available.notify(); // this process's workers, without the PUBLISH round trip
  }

  async queueStates(): Promise<QueueState[]> {
    const [paused, counts] = await Promise.all([this.send("HGETALL", [this.key("paused")]), this.send("HGETALL", [this.key("qcounts")])]);
    return mergeQueueStates(
      Object.entries(toRecord(paused as Record<string, string>)).map(([name, flag]) => ({ name, paused: flag === "1" })),
      Object.entries(toRecord(counts as Record<string, string>)).map(([field, n]) => {
        const bar = field.lastIndexOf("|"); // queue names hold no "|"
        return { queue: field.slice(0, bar), status: field.slice(bar + 1), n: Number(n) };
      }),
    );
  }

  async pruneFinished(statuses: readonly ("succeeded" | "dead" | "cancelled")[], before: number, limit: number): Promise<number> {
    for (const status of statuses) if (!FINISHED.has(status)) throw new Error(`pruneFinished: "${status}" is not a finished status`);
    if (limit <= 0 || statuses.length === 0) return 0;
    return (await this.run(Lua.PRUNE, { statuses: [...statuses], before: String(before), limit: String(Math.floor(limit)) })) as number;
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  /** The status rows of these jobs, in this order; one pruned meanwhile is left out. */
  private async readRows(ids: readonly string[]): Promise<StatusRow[]> {
    const rows: StatusRow[] = [];
    for (let i = 0; i < ids.length; i += 1_000) {
      const hashes = await Promise.all(ids.slice(i, i + 1_000).map((id) => this.send("HGETALL", [this.key("job", id)])));
      for (const hash of hashes) {
        const record = toRecord(hash as Record<string, string>);
        if (record.status !== undefined) rows.push(hashToStatusRow(record));
      }
    }
    return rows;
  }

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(":");
  }

  private prepare(job: NewJob, now: number): RedisInsert {
    return toInsert(checkPriority(toJobRecord(job, this.nextId(now), now)));
  }

  /** The fields an outcome writes (and clears), computed here so the script cannot fail on them. */
  private encodeOutcome(outcome: Outcome, now: number) {
    const { job, at } = outcome;
    // cjson reads a JSON null as a value, not nil: an outcome without an entry leaves the key out.
    const entry = attemptEntry(outcome, this.ownerId);
    const base = { id: job.id, kind: outcome.kind, at: String(at), ...(entry ? { entry } : {}) };
    switch (outcome.kind) {
      case "succeeded": {
        const { output, url, mime, sizeBytes } = outcome.result;
        const results = { output: output === undefined ? null : JSON.stringify(output), result_url: url ?? null, result_mime: mime ?? null, result_size: sizeBytes ?? null };
        return {
          ...base,
          set: flatten({ ...results, completed_at: at, updated_at: at }),
          del: ["error", ...Object.entries(results).filter(([, v]) => v === null).map(([name]) => name)],
        };
      }
      case "failed":
        return { ...base, run_at: String(outcome.retryAt), set: flatten({ error: outcome.error, run_at: outcome.retryAt, order: readyOrder(outcome.retryAt, job.id), updated_at: at }), del: [] };
      case "dead": {
        const letter = deadLetterFor(job, outcome.error, outcome.deadLetterType);
        return { ...base, set: flatten({ error: outcome.error, completed_at: at, updated_at: at }), del: [], ...(letter ? { letter: this.prepare(letter, now) } : {}) };
      }
      case "released": {
        const runAt = outcome.requeue?.runAt ?? at;
        return { ...base, run_at: String(runAt), requeue: outcome.requeue !== undefined, set: flatten({ run_at: runAt, order: readyOrder(runAt, job.id), updated_at: at }), del: [] };
      }
    }
  }

  /** Runs a script by its SHA1, sending its text only when Redis does not have it yet. */
  private async run(script: string, args: object): Promise<unknown> {
    let sha = this.shas.get(script);
    if (!sha) this.shas.set(script, (sha = new Bun.CryptoHasher("sha1").update(script).digest("hex")));
    const argv = ["0", this.prefix, JSON.stringify(args)];
    try {
      return await this.send("EVALSHA", [sha, ...argv]);
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error).message)) throw error;
      return this.send("EVAL", [script, ...argv]);
    }
  }

  private async send(command: string, args: string[]): Promise<unknown> {
    if (this.closed) throw new Error("the Redis queue is closed");
    if (this.connecting) await this.connecting;
    try {
      return await this.client.send(command, args);
    } catch (error) {
      // After its last retry Bun's client stays down until told to connect: the next call does.
      if (!this.client.connected && !this.closed && !this.connecting) {
        this.connecting = this.client.connect().finally(() => (this.connecting = null));
        this.connecting.catch(() => {});
      }
      throw error;
    }
  }
}

/** XINFO's reply as an object, whether the client gives a map (RESP3) or a flat list (RESP2). */
function fieldsOf(entry: Record<string, unknown> | unknown[]): Record<string, unknown> {
  if (!Array.isArray(entry)) return entry;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < entry.length; i += 2) fields[String(entry[i])] = entry[i + 1];
  return fields;
}
