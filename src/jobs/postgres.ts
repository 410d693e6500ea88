// The job queue on PostgreSQL (Bun's built-in Bun.SQL), for a chain that outgrows one box:
// many worker processes on one queue. Same semantics as the SQLite queue, enforced by the
// database across processes:
// - claims take rows with FOR UPDATE SKIP LOCKED, so two workers never claim the same job;
// - a group key is taken with a transaction-scoped advisory lock, then checked against the
//   committed holders, so two processes never run two jobs of one key at once;
// - leases expire across nodes: a dead process's jobs are taken over by the others;
// - enqueue can join a caller's Bun.SQL transaction (pass it as the second argument), and
//   wakes idle workers everywhere with NOTIFY, delivered on commit.
import type { SQL } from "bun";
import { monotonicFactory } from "ulid";
import { systemClock, type Clock } from "../clock.ts";
import type { ListQuery } from "../db/list-query.ts";
import { AvailabilitySignal } from "./availability.ts";
import { deadLetterFor } from "./dead-letter.ts";
import { toJobRecord } from "./new-job.ts";
import { listRowsPostgres } from "./postgres-list.ts";
import { postgresMigrationSql } from "./postgres-schema.ts";
import type { CancelResult, Cancellable, Outcome, Prunable, Queue, Retryable, RetryResult, Source, StateCount, StatusReader } from "./queue.ts";
import { rowToJob, rowToState, type JobRow, type StateRow } from "./rows.ts";
import { STATUS_COLUMNS, type StatusRow } from "./status-columns.ts";
import type { Job, JobState, NewJob } from "./types.ts";

const COLUMNS = `id, type, payload, headers, actor_id, tenant_id, max_retry, group_key, trace_id, priority, unique_key, timeout_ms, attempts, created_at`;

export interface PostgresQueueOptions {
  sql: SQL;
  /** Table name (a plain identifier). Default "backroom_jobs". */
  table?: string;
  /**
   * Jobs this instance enqueues carry its partition, and it claims (and takes over) only jobs of
   * that partition — for handlers that need local state, like a till's orders. Reads, cancel
   * and retry see every partition. Default "" (shared by all instances without one).
   */
  partition?: string;
  clock?: Clock;
}

export class PostgresQueue implements Queue, Source, Cancellable, Retryable, StatusReader, Prunable {
  readonly transactionalEnqueue = true;
  readonly ownerId = monotonicFactory()();
  private readonly sql: SQL;
  private readonly table: string;
  private readonly channel: string;
  private readonly partition: string;
  private readonly clock: Clock;
  private readonly nextId = monotonicFactory();
  private readonly available = new AvailabilitySignal();
  private unlisten: Promise<{ unlisten(): Promise<void> }> | null = null;
  private listeners = 0;

  constructor(options: PostgresQueueOptions) {
    this.sql = options.sql;
    this.table = options.table ?? "backroom_jobs";
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(this.table)) throw new Error(`table must be a plain lower-case identifier, got "${this.table}"`);
    this.channel = `${this.table}_available`;
    this.partition = options.partition ?? "";
    if (this.partition.length > 200) throw new Error("partition must be at most 200 characters");
    this.clock = options.clock ?? systemClock;
  }

  /** Creates the table and indexes if missing (idempotent; serialised across processes). */
  async migrate(): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx.unsafe(`SELECT pg_advisory_xact_lock(hashtextextended('backroom-migrate-${this.table}', 0))`);
      await tx.unsafe(postgresMigrationSql(this.table));
    });
  }

  // ── Queue ───────────────────────────────────────────────────────────────────────────────

  /** Adds a job; pass a Bun.SQL transaction to enqueue atomically with the caller's writes. */
  async enqueue(job: NewJob, tx?: SQL): Promise<string> {
    const id = await this.insert(job, tx ?? this.sql);
    // Committed already when no transaction was given: wake local workers without waiting for
    // the NOTIFY round trip (inside a transaction, the NOTIFY at commit does it).
    if (!tx) this.available.notify();
    return id;
  }

  enqueueAt(at: number | Date, job: NewJob, tx?: SQL): Promise<string> {
    return this.enqueue({ ...job, notBefore: at }, tx);
  }

  async enqueueMany(jobs: readonly NewJob[], tx?: SQL): Promise<string[]> {
    const now = this.clock.now();
    jobs.forEach((job) => toJobRecord(job, "check", now)); // all valid, or nothing is sent
    const run = async (t: SQL) => {
      const ids: string[] = [];
      for (const job of jobs) ids.push(await this.insert(job, t));
      return ids;
    };
    if (tx) return run(tx);
    const ids = await this.sql.begin(run);
    this.available.notify();
    return ids;
  }

  // ── Source ──────────────────────────────────────────────────────────────────────────────

  settleAndClaim(outcomes: readonly Outcome[], max: number, leaseMs: number): Promise<{ claimed: Job[]; applied: Outcome[] }> {
    if (outcomes.length === 0 && max <= 0) return Promise.resolve({ claimed: [], applied: [] });
    return this.sql.begin(async (tx) => {
      const applied: Outcome[] = [];
      for (const outcome of outcomes) if (await this.settle(tx, outcome)) applied.push(outcome);
      return { applied, claimed: max > 0 ? await this.claim(tx, max, leaseMs) : [] };
    });
  }

  async extendLeases(ids: readonly string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.unsafe(`UPDATE ${this.table} SET lease_expires_at = $1 WHERE id = ANY($2::text[]) AND status = 'running' AND claimed_by = $3`, [
      this.clock.now() + leaseMs, ids, this.ownerId,
    ]);
  }

  async takeExpired(leaseMs: number): Promise<Job[]> {
    const now = this.clock.now();
    const rows = (await this.sql.unsafe(
      `UPDATE ${this.table} SET claimed_by = $1, lease_expires_at = $3
       WHERE id IN (SELECT id FROM ${this.table} WHERE status = 'running' AND partition_key = $4 AND lease_expires_at <= $2 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [this.ownerId, now, now + leaseMs, this.partition],
    )) as JobRow[];
    return rows.map(rowToJob);
  }

  async nextDueAt(after: number): Promise<number | null> {
    const [row] = (await this.sql.unsafe(`SELECT min(run_at) AS at FROM ${this.table} WHERE status IN ('enqueued', 'failed') AND partition_key = $2 AND run_at > $1`, [after, this.partition])) as { at: number | null }[];
    return row?.at ?? null;
  }

  /** Wakes on NOTIFY from any process's enqueue (and on local changes). */
  onAvailable(listener: () => void): () => void {
    const off = this.available.subscribe(listener);
    if (this.listeners++ === 0) this.listen();
    return () => {
      off();
      if (--this.listeners === 0) void this.unlisten?.then((l) => l.unlisten()).catch(() => {});
    };
  }

  /**
   * LISTENs for other processes' NOTIFY. While the server cannot be reached the attempt is
   * repeated every second (a rejected LISTEN must not take the process down); local wake-ups
   * and the worker's own polling go on meanwhile.
   */
  private listen(): void {
    const attempt = this.sql.listen(this.channel, () => this.available.notify()) as Promise<{ unlisten(): Promise<void> }>;
    this.unlisten = attempt;
    attempt.catch(() => {
      if (this.unlisten !== attempt) return;
      this.unlisten = null;
      setTimeout(() => {
        if (this.listeners > 0 && this.unlisten === null) this.listen();
      }, 1_000).unref();
    });
  }

  // ── Cancellable, Retryable, StatusReader, Prunable ──────────────────────────────────────

  async cancel(id: string): Promise<CancelResult> {
    const rows = (await this.sql.unsafe(
      `UPDATE ${this.table} SET status = 'cancelled', completed_at = $2, updated_at = $2 WHERE id = $1 AND status IN ('enqueued', 'failed') RETURNING id`,
      [id, this.clock.now()],
    )) as unknown[];
    if (rows.length > 0) {
      await this.notifyAll();
      return "cancelled";
    }
    const [row] = (await this.sql.unsafe(`SELECT status FROM ${this.table} WHERE id = $1`, [id])) as { status: string }[];
    return !row ? "not_found" : row.status === "running" ? "running" : "finished";
  }

  async retry(id: string): Promise<RetryResult> {
    const rows = (await this.sql.unsafe(
      `UPDATE ${this.table} SET status = 'enqueued', attempts = 0, run_at = $2, completed_at = NULL, updated_at = $2 WHERE id = $1 AND status = 'dead' RETURNING id`,
      [id, this.clock.now()],
    )) as unknown[];
    if (rows.length > 0) {
      await this.notifyAll();
      return "retried";
    }
    const [row] = (await this.sql.unsafe(`SELECT 1 FROM ${this.table} WHERE id = $1`, [id])) as unknown[];
    return row ? "not_dead" : "not_found";
  }

  async getStatus(id: string): Promise<JobState | null> {
    const [row] = (await this.sql.unsafe(`SELECT * FROM ${this.table} WHERE id = $1`, [id])) as StateRow[];
    return row ? rowToState(row) : null;
  }

  async stateCounts(): Promise<StateCount[]> {
    return (await this.sql.unsafe(`SELECT status, type, count(*)::int AS n FROM ${this.table} WHERE status <> 'succeeded' GROUP BY status, type`)) as StateCount[];
  }

  listStatuses(query: ListQuery): Promise<{ rows: StatusRow[]; total: number }> {
    return listRowsPostgres<StatusRow>(this.sql, this.table, STATUS_COLUMNS, query);
  }

  async pruneFinished(statuses: readonly string[], before: number, limit: number): Promise<number> {
    const rows = (await this.sql.unsafe(
      `DELETE FROM ${this.table} WHERE id IN (
         SELECT id FROM ${this.table} WHERE status = ANY($1::text[]) AND completed_at < $2 AND partition_key = $4 LIMIT $3) RETURNING id`,
      [statuses, before, limit, this.partition],
    )) as unknown[];
    return rows.length;
  }

  // ── Adopt, for the forwarding queue ────────────────────────────────────────────────────

  /**
   * Stores jobs that were enqueued elsewhere (a till's SQLite outbox) as they are: same id,
   * times, attempts and state, in this instance's partition — one statement, one commit. A row
   * whose id (or unfinished unique key) is here already is skipped, so copying twice after a
   * crash is harmless. Returns the ids stored now.
   */
  async adopt(rows: readonly StateRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const stored = (await this.sql.unsafe(
      `WITH adopted AS (
         INSERT INTO ${this.table} (id, type, status, payload, headers, priority, attempts, max_retry, run_at, group_key, unique_key,
                                    trace_id, actor_id, tenant_id, timeout_ms, error, created_at, updated_at, partition_key)
         SELECT id, type, status, payload, headers, priority, attempts, max_retry, run_at, group_key, unique_key,
                trace_id, actor_id, tenant_id, timeout_ms, error, created_at, updated_at, $2
         FROM jsonb_to_recordset($1::text::jsonb) AS r(id text, type text, status text, payload text, headers text, priority int, attempts int,
              max_retry int, run_at float8, group_key text, unique_key text, trace_id text, actor_id text, tenant_id text,
              timeout_ms float8, error text, created_at float8, updated_at float8)
         ORDER BY id
         ON CONFLICT DO NOTHING
         RETURNING id)
       SELECT id, pg_notify($3, '') FROM adopted`,
      [JSON.stringify(rows), this.partition, this.channel],
    )) as { id: string }[];
    return stored.map((r) => r.id);
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  private async insert(job: NewJob, sql: SQL): Promise<string> {
    const now = this.clock.now();
    const r = toJobRecord(job, this.nextId(now), now);
    // One statement: insert (unless an unfinished job holds the unique key) and NOTIFY, which
    // PostgreSQL delivers only if and when the surrounding transaction commits.
    const rows = (await sql.unsafe(
      `WITH inserted AS (
         INSERT INTO ${this.table} (id, type, status, payload, headers, priority, max_retry, run_at, group_key, unique_key,
                                    trace_id, actor_id, tenant_id, timeout_ms, created_at, updated_at, partition_key)
         VALUES ($1, $2, 'enqueued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $16)
         ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL AND status IN ('enqueued', 'running', 'failed') DO NOTHING
         RETURNING id)
       SELECT id, pg_notify($15, '') FROM inserted`,
      [r.id, r.type, r.payload, r.headers, r.priority, r.maxRetry, r.runAt, r.groupKey, r.uniqueKey, r.traceId, r.actorId, r.tenantId, r.timeoutMs, r.createdAt, this.channel, this.partition],
    )) as { id: string }[];
    if (rows[0]) return rows[0].id;
    const [existing] = (await sql.unsafe(`SELECT id FROM ${this.table} WHERE unique_key = $1 AND status IN ('enqueued', 'running', 'failed')`, [r.uniqueKey])) as { id: string }[];
    if (!existing) throw new Error(`enqueue of "${r.type}" conflicted on unique key ${r.uniqueKey} and found no holder; retry`);
    return existing.id;
  }

  /**
   * Claims up to `max` due jobs, inside the caller's transaction. Rows are locked with SKIP
   * LOCKED; each group key is taken with an advisory lock held until commit and then checked
   * against committed holders (running, or failed and waiting for its retry).
   */
  private async claim(tx: SQL, max: number, leaseMs: number): Promise<Job[]> {
    const now = this.clock.now();
    const candidates = (await tx.unsafe(
      `SELECT id, group_key FROM ${this.table}
       WHERE partition_key = $3 AND status IN ('enqueued', 'failed') AND run_at <= $1
       ORDER BY priority DESC, run_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, max * 4 + 8, this.partition],
    )) as { id: string; group_key: string | null }[];
    const chosen: string[] = [];
    const keys = new Set<string>();
    for (const c of candidates) {
      if (chosen.length === max) break;
      if (c.group_key === null) {
        chosen.push(c.id);
        continue;
      }
      if (keys.has(c.group_key)) continue; // one job per key per claim
      const [free] = (await tx.unsafe(
        `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AND NOT EXISTS (
           SELECT 1 FROM ${this.table} WHERE group_key = $1 AND status IN ('running', 'failed') AND id <> $2) AS free`,
        [c.group_key, c.id],
      )) as { free: boolean }[];
      if (free?.free) {
        chosen.push(c.id);
        keys.add(c.group_key);
      }
    }
    if (chosen.length === 0) return [];
    const rows = (await tx.unsafe(
      `UPDATE ${this.table} SET status = 'running', attempts = attempts + 1, started_at = $2, updated_at = $2, lease_expires_at = $3, claimed_by = $4
       WHERE id = ANY($1::text[]) RETURNING ${COLUMNS}, run_at`,
      [chosen, now, now + leaseMs, this.ownerId],
    )) as (JobRow & { run_at: number })[];
    const order = new Map(chosen.map((id, i) => [id, i]));
    return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!).map(rowToJob);
  }

  private async settle(tx: SQL, outcome: Outcome): Promise<boolean> {
    const { job } = outcome;
    const guard = `WHERE id = $1 AND status = 'running' AND claimed_by = $2 RETURNING id`;
    let rows: unknown[];
    switch (outcome.kind) {
      case "succeeded": {
        const { output, url, mime, sizeBytes } = outcome.result;
        rows = await tx.unsafe(
          `UPDATE ${this.table} SET status = 'succeeded', error = NULL, output = $3, result_url = $4, result_mime = $5, result_size = $6,
             completed_at = $7, updated_at = $7, lease_expires_at = NULL, claimed_by = NULL ${guard}`,
          [job.id, this.ownerId, output === undefined ? null : JSON.stringify(output), url ?? null, mime ?? null, sizeBytes ?? null, outcome.at],
        );
        break;
      }
      case "failed":
        rows = await tx.unsafe(`UPDATE ${this.table} SET status = 'failed', error = $3, run_at = $4, updated_at = $5, lease_expires_at = NULL, claimed_by = NULL ${guard}`, [
          job.id, this.ownerId, outcome.error, outcome.retryAt, outcome.at,
        ]);
        break;
      case "dead":
        rows = await tx.unsafe(`UPDATE ${this.table} SET status = 'dead', error = $3, completed_at = $4, updated_at = $4, lease_expires_at = NULL, claimed_by = NULL ${guard}`, [
          job.id, this.ownerId, outcome.error, outcome.at,
        ]);
        if (rows.length > 0) {
          const letter = deadLetterFor(job, outcome.error, outcome.deadLetterType);
          if (letter) await this.insert(letter, tx);
        }
        break;
      case "released":
        rows = await tx.unsafe(`UPDATE ${this.table} SET status = 'enqueued', attempts = attempts - 1, run_at = $3, updated_at = $3, lease_expires_at = NULL, claimed_by = NULL ${guard}`, [
          job.id, this.ownerId, outcome.at,
        ]);
        break;
    }
    // A finished job may free its group key for a waiting one — in any process.
    if (rows.length > 0 && outcome.kind !== "failed" && job.groupKey !== null) await tx.unsafe(`SELECT pg_notify($1, '')`, [this.channel]);
    return rows.length > 0;
  }

  private async notifyAll(): Promise<void> {
    await this.sql.unsafe(`SELECT pg_notify($1, '')`, [this.channel]);
  }
}
