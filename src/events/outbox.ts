// The durable event outbox: events bound for a network broker, written to the database file in
// the SAME transaction as the write that caused them (an order and its `order.created`; a job's
// settle and its `job.*.completed`), so an event exists exactly when its cause does — a crash,
// a kill -9 or a power cut between the write and the broker loses nothing. The relay
// (outbox-relay.ts) reads them in order and deletes what the broker acknowledged.
//
// `add` is synchronous and joins the transaction open on the connection (as the SQLite queue's
// enqueue does); outside one it is its own group-committed unit. The relay must never read a
// row before its transaction commits — a crash would then leave a published event whose order
// never existed — so it reads only up to `committedSeq`, which moves when a commit hook of the
// writing transaction runs. Sequence numbers come from this process (start: the highest in the
// table), never reused while it runs, so "every row up to N has committed" holds.
import type { Migration } from "../db/migrations.ts";
import type { Db } from "../db/open.ts";
import type { Event } from "./event.ts";

export const outboxMigrations: Migration[] = [
  {
    component: "events",
    version: 1,
    name: "event outbox",
    // seq is the rowid: reads in publish order and deletes of a prefix walk the table's own b-tree.
    up: `CREATE TABLE event_outbox (
           seq        INTEGER PRIMARY KEY,
           created_at INTEGER NOT NULL,
           event      TEXT    NOT NULL
         )`,
  },
];

const SQL = {
  insert: "INSERT INTO event_outbox (seq, created_at, event) VALUES (?, ?, ?)",
  /** The next events to publish, in order: a range scan of the rowid. */
  next: "SELECT seq, event FROM event_outbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
  /** What the broker acknowledged: every row up to a seq (a prefix, so one range delete). */
  deleteUpTo: "DELETE FROM event_outbox WHERE seq <= ?",
  highest: "SELECT max(seq) AS seq FROM event_outbox",
  /** The oldest event not yet sent: one step down the rowid b-tree. */
  oldestAfter: "SELECT created_at FROM event_outbox WHERE seq > ? ORDER BY seq LIMIT 1",
  backlog: "SELECT count(*) AS n, min(created_at) AS oldest FROM event_outbox",
} as const;

export interface OutboxRow {
  seq: number;
  event: Event;
  /** The event's JSON as stored: what goes to the broker, so it is not serialized twice. */
  json: string;
}

export interface OutboxBacklog {
  /** Events written and not yet acknowledged by the broker. */
  n: number;
  /** When the oldest of them was written (epoch ms); null when none wait. */
  oldestCreatedAt: number | null;
}

/** Events the relay may hold in memory before it reads them from the table instead. */
const MAX_CACHED = 10_000;

export class EventOutbox {
  private nextSeq: number;
  /** Every row with a seq up to this one has committed (or rolled back): the relay may read them. */
  private committed: number;
  private readonly listeners = new Set<() => void>();
  /**
   * The events committed since the relay last caught up with the table, in seq order, kept so
   * that a relay that keeps up needs no SELECT and no JSON.parse per event (they were a third of
   * the outbox's cost per order). Off while the table holds events the cache does not (at start,
   * or after MAX_CACHED piled up while the broker was away): the relay then reads the table, and
   * the cache starts again the moment a read reaches the last committed event.
   */
  private cache: OutboxRow[] | null = [];
  private readonly insertRow: ReturnType<Db["sqlite"]["prepare"]>;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    const highest = (db.sqlite.query(SQL.highest).get() as { seq: number | null }).seq ?? 0;
    this.nextSeq = highest + 1;
    this.committed = highest;
    if (highest > 0) this.cache = null; // events left by the previous process: read them first
    this.insertRow = db.sqlite.prepare(SQL.insert);
  }

  /**
   * Writes the event in the transaction open now (synchronous: no await between the write and
   * this), or in a group-committed unit of its own when none is open. Resolves once durable.
   */
  add(event: Event, json = JSON.stringify(event)): Promise<void> {
    if (this.db.sqlite.inTransaction) {
      this.insert(event, json);
      return this.db.pendingFlush() ?? Promise.resolve();
    }
    return this.db.write(() => this.insert(event, json));
  }

  private insert(event: Event, json: string): void {
    const seq = this.nextSeq++;
    this.insertRow.run(seq, this.now(), json);
    this.db.afterCommit(() => {
      if (seq > this.committed) this.committed = seq;
      if (this.cache) {
        if (this.cache.length < MAX_CACHED) this.cache.push({ seq, event, json });
        else this.cache = null; // the broker is away: the table has them; no need to hold them twice
      }
      for (const listener of this.listeners) listener();
    });
  }

  /** Calls `listener` after each commit that added events. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Up to `limit` committed events after `after`, oldest first. */
  next(limit: number, after = 0): OutboxRow[] {
    const cache = this.cache;
    if (cache) {
      let sent = 0;
      while (sent < cache.length && cache[sent]!.seq <= after) sent++;
      if (sent > 0) cache.splice(0, sent);
      return cache.slice(0, limit);
    }
    const found = this.db.sqlite.query(SQL.next).all(after, this.committed, limit) as { seq: number; event: string }[];
    const rows = found.map((row) => ({ seq: row.seq, event: JSON.parse(row.event) as Event, json: row.event }));
    // Caught up with the table: from here on every commit is cached (nothing can commit
    // between this read and this line: both run in one synchronous turn).
    if (rows.length < limit) this.cache = rows;
    return rows;
  }

  /** The relay goes back to events it already read (their publication was not confirmed): the
   * cache dropped them, so it reads the table until it has caught up again. */
  rewind(): void {
    this.cache = null;
  }

  /** The broker acknowledged every event up to `seq`: gone. Joins the next group commit (a crash
   * before it commits only sends them again: at least once). */
  deleteUpTo(seq: number): Promise<void> {
    return this.db.write(() => void this.db.sqlite.query(SQL.deleteUpTo).run(seq));
  }

  /** What waits to be sent after `after`, cheaply (no count over the table): the number is an
   * upper bound when transactions rolled back, exact otherwise. */
  waitingAfter(after: number): OutboxBacklog {
    const row = this.db.sqlite.query(SQL.oldestAfter).get(after) as { created_at: number } | null;
    return { n: row ? this.committed - after : 0, oldestCreatedAt: row?.created_at ?? null };
  }
}

/** The outbox's backlog read from a file (for /metrics): what waits for the broker. */
export function outboxBacklog(db: Db): OutboxBacklog {
  const row = db.sqlite.query(SQL.backlog).get() as { n: number; oldest: number | null };
  return { n: row.n, oldestCreatedAt: row.oldest };
}
