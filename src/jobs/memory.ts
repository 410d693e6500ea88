// The in-memory queue: the same semantics as the SQLite queue, kept in a Map. For tests and
// for `--memory` mode. Nothing survives the process, and there is no transactional enqueue:
// an enqueue is visible at once and is not undone by a caller's rollback.
import { monotonicFactory } from "../ulid.ts";
import { systemClock, type Clock } from "../clock.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord, type JobRecord } from "./new-job.ts";
import { listInMemory, type ListQuery } from "../db/list-query.ts";
import { appendEntry, attemptEntry, attemptHistory } from "./attempt-history.ts";
import { MAX_REQUEUES, type CancelResult, type Cancellable, type ClaimOptions, type Deletable, type DeleteResult, type Outcome, type Prunable, type QueueControl, type QueueState, type Retryable, type RetryResult, type Source, type StateCount, type StatusReader } from "./queue.ts";
import { emptyCounts } from "./queue-states.ts";
import { stateToStatusRow, type StatusRow } from "./status-columns.ts";
import { SyncQueue } from "./sync-queue.ts";
import type { Job, JobState, JobStatus, NewJob } from "./types.ts";

interface Entry {
  record: JobRecord;
  state: JobState;
  leaseExpiresAt: number | null;
  /** False while the job is claimed ahead of a free slot: its attempt is not counted yet. */
  attemptStarted: boolean;
  requeues: number;
  /** The attempt history's log (attempt-history.ts) and the owner of the last attempt. */
  log: string | null;
  worker: string | null;
}

const AVAILABLE: ReadonlySet<JobStatus> = new Set(["enqueued", "failed"]);
const HOLDING: ReadonlySet<JobStatus> = new Set(["running", "failed"]);
const FINISHED: ReadonlySet<JobStatus> = new Set(["succeeded", "dead", "cancelled"]);

export class MemoryQueue extends SyncQueue implements Source, Cancellable, Retryable, StatusReader, Prunable, Deletable, QueueControl {
  readonly transactionalEnqueue = false;
  readonly ownerId = monotonicFactory()();
  private readonly clock: Clock;
  private readonly nextId = monotonicFactory();
  private entries = new Map<string, Entry>();
  /** Named queues' pause state (a queue without an entry runs). */
  private readonly paused = new Map<string, boolean>();

  constructor(options: { clock?: Clock } = {}) {
    super();
    this.clock = options.clock ?? systemClock;
  }

  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number, options: ClaimOptions = {}): { claimed: Job[]; applied: Outcome[] } {
    for (const id of options.started ?? []) {
      const entry = this.entries.get(id);
      if (entry?.state.status !== "running" || entry.attemptStarted) continue;
      entry.attemptStarted = true;
      this.update(entry, { attempts: entry.state.attempts + 1, startedAt: this.clock.now() });
    }
    const applied = outcomes.filter((outcome) => this.settle(outcome));
    return { claimed: max > 0 ? this.claim(max, leaseMs, options.startNow ?? max, options) : [], applied };
  }

  extendLeases(ids: readonly string[], leaseMs: number): void {
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry?.state.status === "running") entry.leaseExpiresAt = this.clock.now() + leaseMs;
    }
  }

  takeExpired(leaseMs: number): Job[] {
    const now = this.clock.now();
    const expired: Job[] = [];
    let released = false;
    for (const entry of this.entries.values()) {
      if (entry.state.status !== "running" || (entry.leaseExpiresAt ?? 0) > now) continue;
      if (!entry.attemptStarted && entry.requeues < MAX_REQUEUES) {
        entry.requeues++;
        entry.leaseExpiresAt = null;
        this.update(entry, { status: "enqueued" }, now);
        released = true;
        continue;
      }
      if (!entry.attemptStarted) this.update(entry, { attempts: entry.state.attempts + 1 }, now);
      entry.attemptStarted = true;
      entry.leaseExpiresAt = now + leaseMs;
      expired.push(toJob(entry));
    }
    if (released) this.notifyAvailable();
    return expired;
  }

  nextDueAt(after: number): number | null {
    let next: number | null = null;
    for (const { state } of this.entries.values()) {
      if (AVAILABLE.has(state.status) && state.runAt > after && (next === null || state.runAt < next) && this.paused.get(state.queue) !== true) next = state.runAt;
    }
    return next;
  }

  cancel(id: string): CancelResult {
    const entry = this.entries.get(id);
    if (!entry) return "not_found";
    if (entry.state.status === "running") return "running";
    if (!AVAILABLE.has(entry.state.status)) return "finished";
    this.update(entry, { status: "cancelled", completedAt: this.clock.now() });
    this.notifyAvailable();
    return "cancelled";
  }

  retry(id: string): RetryResult {
    const entry = this.entries.get(id);
    if (!entry) return "not_found";
    if (entry.state.status !== "dead") return "not_dead";
    this.update(entry, { status: "enqueued", attempts: 0, runAt: this.clock.now(), completedAt: null });
    this.notifyAvailable();
    return "retried";
  }

  pruneFinished(statuses: readonly string[], before: number, limit: number): number {
    let deleted = 0;
    for (const [id, { state }] of this.entries) {
      if (deleted === limit) break;
      if (statuses.includes(state.status) && state.completedAt !== null && state.completedAt < before) {
        this.entries.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  stateCounts(): StateCount[] {
    const counts = new Map<string, StateCount>();
    for (const { state } of this.entries.values()) {
      if (state.status === "succeeded") continue;
      const key = `${state.status}\u0000${state.type}`;
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { status: state.status, type: state.type, n: 1 });
    }
    return [...counts.values()];
  }

  delete(id: string): DeleteResult {
    const entry = this.entries.get(id);
    if (!entry) return "not_found";
    if (!FINISHED.has(entry.state.status)) return "not_finished";
    this.entries.delete(id);
    return "deleted";
  }

  setQueuePaused(name: string, paused: boolean, ifUnset = false): void {
    if (ifUnset && this.paused.has(name)) return;
    this.paused.set(name, paused);
    if (!paused) this.notifyAvailable();
  }

  queueStates(): QueueState[] {
    const states = new Map<string, QueueState>();
    const of = (name: string) => {
      let state = states.get(name);
      if (!state) states.set(name, (state = { name, paused: this.paused.get(name) ?? false, counts: emptyCounts() }));
      return state;
    };
    for (const name of this.paused.keys()) of(name);
    for (const { state } of this.entries.values()) of(state.queue).counts[state.status]++;
    return [...states.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  listStatuses(query: ListQuery): { rows: StatusRow[]; total: number } {
    return listInMemory([...this.entries.values()].map((e) => stateToStatusRow(e.state)), query);
  }

  getStatus(id: string): JobState | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const { state } = entry;
    const attemptsHistory = attemptHistory({
      status: state.status, attempts: state.attempts, attemptStarted: entry.attemptStarted, startedAt: state.startedAt,
      completedAt: state.completedAt, worker: entry.worker, log: entry.log,
    });
    return structuredClone({ ...state, attemptsHistory });
  }

  protected atomically<T>(fn: () => T): T {
    const before = new Map(this.entries);
    try {
      return fn();
    } catch (error) {
      this.entries = before;
      throw error;
    }
  }

  protected insert(job: NewJob): string {
    if (job.uniqueKey) {
      for (const { state } of this.entries.values()) {
        if (state.uniqueKey === job.uniqueKey && (AVAILABLE.has(state.status) || state.status === "running")) return state.id;
      }
    }
    const now = this.clock.now();
    const record = toJobRecord(job, this.nextId(now), now);
    const state: JobState = {
      id: record.id, type: record.type, status: "enqueued", queue: record.queue, payload: JSON.parse(record.payload), priority: record.priority,
      attempts: 0, maxRetry: record.maxRetry, actorId: record.actorId, tenantId: record.tenantId, groupKey: record.groupKey,
      uniqueKey: record.uniqueKey, traceId: record.traceId, error: null, resultUrl: null, resultMime: null, output: null,
      runAt: record.runAt, createdAt: now, startedAt: null, completedAt: null, updatedAt: now, attemptsHistory: [],
    };
    this.entries.set(record.id, { record, state, leaseExpiresAt: null, attemptStarted: false, requeues: 0, log: null, worker: null });
    return record.id;
  }

  private claim(max: number, leaseMs: number, startNow: number, options: ClaimOptions): Job[] {
    const now = this.clock.now();
    const holders = new Map<string, string>();
    for (const { state } of this.entries.values()) {
      if (state.groupKey !== null && HOLDING.has(state.status)) holders.set(state.groupKey, state.id);
    }
    const allowances = new Map(Object.entries(options.queueAllowances ?? {}));
    const due = [...this.entries.values()]
      .filter(({ state }) => AVAILABLE.has(state.status) && state.runAt <= now && this.paused.get(state.queue) !== true)
      .sort((a, b) => b.state.priority - a.state.priority || a.state.runAt - b.state.runAt || (a.state.id < b.state.id ? -1 : 1));
    const claimed: Job[] = [];
    for (const entry of due) {
      if (claimed.length === max) break;
      const allowance = allowances.get(entry.state.queue);
      if (allowance !== undefined && allowance <= 0) continue;
      const key = entry.state.groupKey;
      if (key !== null) {
        const holder = holders.get(key);
        if (holder !== undefined && holder !== entry.state.id) continue;
        holders.set(key, entry.state.id);
      }
      // The first startNow start at once; the rest are claimed ahead (attempt counted at start).
      entry.attemptStarted = claimed.length < startNow;
      if (entry.attemptStarted) this.update(entry, { status: "running", attempts: entry.state.attempts + 1, startedAt: now });
      else this.update(entry, { status: "running" });
      entry.leaseExpiresAt = now + leaseMs;
      entry.worker = this.ownerId;
      if (allowance !== undefined) allowances.set(entry.state.queue, allowance - 1);
      claimed.push({ ...toJob(entry), attempt: entry.attemptStarted ? entry.state.attempts : entry.state.attempts + 1 });
    }
    return claimed;
  }

  private settle(outcome: Outcome): boolean {
    const entry = this.entries.get(outcome.job.id);
    if (entry?.state.status !== "running") return false;
    entry.leaseExpiresAt = null;
    // A claimed-ahead job that started and finished between two writes: its outcome counts it.
    if (!entry.attemptStarted && outcome.kind !== "released") {
      entry.attemptStarted = true;
      this.update(entry, { attempts: entry.state.attempts + 1 });
    }
    const logged = attemptEntry(outcome, this.ownerId);
    if (logged) entry.log = appendEntry(entry.log, logged);
    switch (outcome.kind) {
      case "succeeded": {
        const { output, url, mime } = outcome.result;
        this.update(entry, { status: "succeeded", error: null, output: output === undefined ? null : structuredClone(output), resultUrl: url ?? null, resultMime: mime ?? null, completedAt: outcome.at }, outcome.at);
        break;
      }
      case "failed":
        this.update(entry, { status: "failed", error: outcome.error, runAt: outcome.retryAt }, outcome.at);
        break;
      case "dead": {
        this.update(entry, { status: "dead", error: outcome.error, completedAt: outcome.at }, outcome.at);
        const letter = deadLetterFor(outcome.job, outcome.error, outcome.deadLetterType);
        if (letter) this.insert(letter);
        break;
      }
      case "released":
        this.update(entry, { status: "enqueued", attempts: entry.state.attempts - (entry.attemptStarted ? 1 : 0), runAt: outcome.requeue?.runAt ?? outcome.at }, outcome.at);
        if (outcome.requeue) entry.requeues++;
        break;
    }
    return true;
  }

  private update(entry: Entry, changes: Partial<JobState>, at = this.clock.now()): void {
    entry.state = { ...entry.state, ...changes, updatedAt: at };
  }
}

function toJob({ record, state, requeues }: Entry): Job {
  return {
    id: state.id, type: state.type, payload: structuredClone(state.payload), headers: record.headers ? JSON.parse(record.headers) : {},
    actorId: state.actorId, tenantId: state.tenantId, maxRetry: state.maxRetry, groupKey: state.groupKey, traceId: state.traceId,
    priority: state.priority, uniqueKey: state.uniqueKey, timeoutMs: record.timeoutMs, queue: state.queue, attempt: state.attempts, requeues, createdAt: state.createdAt,
  };
}
