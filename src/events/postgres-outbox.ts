// The job events' outbox on a PostgreSQL queue: `<table>_events` (created by the queue's
// migrate, src/jobs/postgres-schema.ts). The queue's settle writes its jobs' events here in its
// own transaction (keepDuring: one multi-row INSERT per settle batch), so a job's transition and
// its event commit together — a kill -9 after the commit loses neither. An OutboxBus relays
// from it (OutboxStore) exactly as it relays from the database file.
//
// Many processes share the table, so two things the file's outbox gets for free are made here:
// - One relay at a time. The relay that holds a session advisory lock on a connection of its
//   own publishes; the others only try to take the lock over each `pollMs` (a dead relay's lock
//   goes with its connection). Two relays never publish the same row at once, and the broker
//   sees the events in one order.
// - Order without a cursor. Transactions of different processes commit out of seq order (seq
//   9 may commit after 10), so the relay never reads "after the last seq sent" — it would skip
//   9 for good. It reads the oldest rows left in the table, and deletes the ones it sent at its
//   next read. A process settles one batch at a time, so its own events commit in seq order
//   and reach the broker in that order; events of different processes interleave as they
//   commit. The relay numbers what it hands out itself (OutboxRow.seq), increasing.
import type { ReservedSQL, SQL } from "bun";
import type { SettleOutbox } from "../jobs/postgres.ts";
import type { Event } from "./event.ts";
import type { OutboxBacklog, OutboxRow } from "./outbox.ts";
import type { OutboxStore } from "./outbox-store.ts";

export interface PostgresEventOutboxOptions {
  sql: SQL;
  /** The PostgreSQL queue's table; the outbox is `<table>_events`. Default "backroom_jobs". */
  table?: string;
  /** How often a waiting relay tries to take over, and an idle one reads again (a missed NOTIFY). Default 1 s. */
  pollMs?: number;
  now?: () => number;
}

function statements(t: string) {
  return {
    // Kept in order (seq follows the array), and a NOTIFY that PostgreSQL delivers at commit.
    insert: `
      WITH kept AS (
        INSERT INTO ${t} (created_at, event) SELECT $1, e FROM unnest($2::text[]) WITH ORDINALITY AS r(e, i) ORDER BY i RETURNING seq)
      SELECT pg_notify($3, '') FROM (SELECT 1 FROM kept LIMIT 1) AS any_kept`,
    relayLock: `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
    unlock: `SELECT pg_advisory_unlock_all()`,
    // Deletes what the broker acknowledged ($1) and reads the oldest rows left, in one round trip
    // (the SELECT sees the snapshot before the DELETE, hence the filter). Index: primary key.
    // The seq goes out as text (a bigint), under another name: ORDER BY must read the column.
    next: `
      WITH gone AS (DELETE FROM ${t} WHERE seq = ANY($1::bigint[]))
      SELECT seq::text AS id, event FROM ${t} WHERE seq <> ALL($1::bigint[]) ORDER BY seq LIMIT $2`,
    delete: `DELETE FROM ${t} WHERE seq = ANY($1::bigint[])`,
    backlog: `SELECT count(*)::int AS n, min(created_at) AS oldest FROM ${t}`,
  };
}

export class PostgresEventOutbox implements OutboxStore, SettleOutbox {
  private readonly sql: SQL;
  private readonly table: string;
  private readonly q: ReturnType<typeof statements>;
  private readonly pollMs: number;
  private readonly now: () => number;
  /** Events kept during keepDuring's synchronous call, for its transaction. */
  private kept: string[] | null = null;
  /** The connection holding the relay lock while this process is the relay. */
  private relay: ReservedSQL | null = null;
  /** Rows handed to the relay and not yet deleted: its number for each, and the table's seq. */
  private handed: { local: number; seq: string }[] = [];
  /** Sent rows whose delete has not run yet (it failed, or waits for the next read). */
  private sent: string[] = [];
  private lastLocal = 0;
  private readonly listeners = new Set<() => void>();
  private notices = 0;
  private poll: Timer | null = null;
  private unlisten: Promise<{ unlisten(): Promise<void> }> | null = null;

  constructor(options: PostgresEventOutboxOptions) {
    this.sql = options.sql;
    const table = options.table ?? "backroom_jobs";
    if (!/^[a-z_][a-z0-9_]{0,50}$/.test(table)) throw new Error(`table must be a plain lower-case identifier, got "${table}"`);
    this.table = `${table}_events`;
    this.q = statements(this.table);
    this.pollMs = options.pollMs ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  // ── the writers' side ───────────────────────────────────────────────────────────────────

  /** In keepDuring's call: kept for its transaction. Elsewhere: written on its own. */
  add(_event: Event, json: string): Promise<void> {
    if (this.kept) {
      this.kept.push(json);
      return Promise.resolve();
    }
    return this.sql.unsafe(this.q.insert, [this.now(), [json], this.table]).then(() => undefined);
  }

  /** Runs `during` (the worker's hook, which keeps the settle's events here) and writes what it kept on `tx`. */
  async keepDuring(during: () => void, tx: SQL): Promise<void> {
    const kept: string[] = [];
    this.kept = kept;
    try {
      during();
    } finally {
      this.kept = null;
    }
    if (kept.length > 0) await tx.unsafe(this.q.insert, [this.now(), kept, this.table]);
  }

  // ── the relay's side ────────────────────────────────────────────────────────────────────

  /** Wakes on every commit that kept events (NOTIFY, from any process), and each pollMs. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      this.unlisten = this.sql.listen(this.table, () => this.notify()) as Promise<{ unlisten(): Promise<void> }>;
      this.unlisten.catch(() => {}); // the poll stands in for it
      this.poll = setInterval(() => this.notify(), this.pollMs);
      this.poll.unref?.();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopListening();
    };
  }

  async next(limit: number, after = 0): Promise<OutboxRow[]> {
    this.settleHanded(after);
    this.handed = []; // those not sent: read again, in their place
    const relay = await this.relayConnection();
    if (!relay) return [];
    const sent = this.sent;
    const noticed = this.notices;
    let found: { id: string; event: string }[];
    try {
      found = (await relay.unsafe(this.q.next, [sent, limit])) as typeof found;
    } catch (error) {
      await this.stepDown();
      throw error;
    }
    this.sent = this.sent.filter((seq) => !sent.includes(seq)); // deleted (more may have been sent meanwhile)
    const rows = found.map((row) => ({ seq: ++this.lastLocal, event: JSON.parse(row.event) as Event, json: row.event }));
    this.handed = found.map((row, i) => ({ local: rows[i]!.seq, seq: row.id }));
    // A commit noticed while this read ran may be missing from it, and its wake-up may have come
    // before the relay waits again: wake it once more, after it does.
    if (this.notices !== noticed) setTimeout(() => this.notify(), 0);
    return rows;
  }

  async deleteUpTo(upTo: number): Promise<void> {
    this.settleHanded(upTo);
    const relay = this.relay;
    const sent = this.sent;
    if (!relay || sent.length === 0) return;
    await relay.unsafe(this.q.delete, [sent]);
    this.sent = this.sent.filter((seq) => !sent.includes(seq));
  }

  async waitingAfter(): Promise<OutboxBacklog> {
    return this.backlog();
  }

  /** What waits for the broker, from every process (for /metrics and the relay's warning). */
  async backlog(): Promise<OutboxBacklog> {
    const [row] = (await this.sql.unsafe(this.q.backlog)) as { n: number; oldest: number | null }[];
    return { n: row?.n ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }

  async close(): Promise<void> {
    this.stopListening();
    await this.stepDown();
  }

  /** The rows handed out up to `upTo` were sent: to delete. (Those after it may be on their way.) */
  private settleHanded(upTo: number): void {
    let n = 0;
    while (n < this.handed.length && this.handed[n]!.local <= upTo) this.sent.push(this.handed[n++]!.seq);
    if (n > 0) this.handed = this.handed.slice(n);
  }

  /** This process's relay connection, taking the lock if no other relay holds it; null when one does. */
  private async relayConnection(): Promise<ReservedSQL | null> {
    if (this.relay) return this.relay;
    const connection = await this.sql.reserve();
    let locked = false;
    try {
      const [row] = (await connection.unsafe(this.q.relayLock, [`backroom-event-relay-${this.table}`])) as { locked: boolean }[];
      locked = row?.locked === true;
    } finally {
      if (!locked) connection.release();
    }
    if (!locked) {
      this.sent = []; // the relay that holds the lock sends (and deletes) them: at least once
      return null;
    }
    this.relay = connection;
    return connection;
  }

  /** Lets go of the relay lock (a broken connection has already lost it) and of the connection. */
  private async stepDown(): Promise<void> {
    const relay = this.relay;
    if (!relay) return;
    this.relay = null;
    this.handed = [];
    await relay.unsafe(this.q.unlock).catch(() => {});
    relay.release();
  }

  private notify(): void {
    this.notices++;
    for (const listener of this.listeners) listener();
  }

  private stopListening(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    void this.unlisten?.then((l) => l.unlisten()).catch(() => {});
    this.unlisten = null;
  }
}
