// The durable event outbox: events bound for a network broker, written to the database file in
// the SAME transaction as the write that caused them (an order and its `order.created`; a job's
// settle and its `job.*.completed`), so an event exists exactly when its cause does — a crash,
// a kill -9 or a power cut between the write and the broker loses nothing. The relay
// (outbox-bus.ts) reads them in order and tells the outbox what the broker acknowledged.
//
// `add` is synchronous and joins the transaction open on the connection (as the SQLite queue's
// enqueue does); outside one it is its own group-committed unit. The relay must never read a
// row before its transaction commits — a crash would then leave a published event whose order
// never existed — so it reads only up to `committedSeq`, which moves when a commit hook of the
// writing transaction runs. Sequence numbers come from this process (start: the highest in the
// file), never reused while it runs, so "every row up to N has committed" holds.
//
// Where the events live: a RING of slots (event seq → slot seq % ring_slots), each row
// overwritten in place once the broker has acknowledged the event in it, because what an
// order's events cost is the pages its commit writes, and a row overwritten in place touches
// only the leaf pages it sits on: no new page, no freelist, no b-tree rebalancing.
// bench/outbox-pages.ts: 1.43 WAL frames per order at one order per commit against 3.44 for
// the insert-then-delete table it replaced (0.79 against 1.89 at four per commit). A slot is
// taken only when the event in it was acknowledged; when the broker is away and the ring is
// full, events go to the overflow table (`event_outbox`, the first layout, kept), never over
// an unsent one. The relay reads both, merged in seq order. What the broker acknowledged is
// recorded as one high-water mark (event_outbox_state.acknowledged_seq, once a second with
// the overflow rows it covers): a restart sends again only what lies above it.
import type { Migration } from "../db/migrations.ts";
import type { Db } from "../db/open.ts";
import type { Event } from "./event.ts";

/** Slots in a new file's ring: what may wait unacknowledged before events overflow to the table.
 * 4,096 events (~1,000 orders, ~2.3 MB once filled) is eight of the relay's 500-event batches:
 * it confirms at the latest every 500 events or once a second, so only an outage overflows. */
const RING_SLOTS = 4096;

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
  {
    component: "events",
    version: 2,
    name: "event outbox ring",
    // event_outbox stays as the overflow, with any events an older version left in it (they
    // are above the high-water mark 0: sent first). The ring's slot is its rowid; seq has no
    // index (it would be a second b-tree written per event): reads go by slot range, and the
    // start-up's max(seq) scans the ring once. ring_slots is stored, not a constant, because
    // the slot of an event kept by this file must not move if a later version changes it.
    up: `
      CREATE TABLE event_outbox_ring (
        slot       INTEGER PRIMARY KEY,
        seq        INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        event      TEXT    NOT NULL
      );
      CREATE TABLE event_outbox_state (
        id               INTEGER PRIMARY KEY CHECK (id = 1),
        ring_slots       INTEGER NOT NULL,
        acknowledged_seq INTEGER NOT NULL
      );
      INSERT INTO event_outbox_state (id, ring_slots, acknowledged_seq) VALUES (1, ${RING_SLOTS}, 0);
      CREATE VIEW event_outbox_waiting AS
        SELECT seq, created_at, event FROM event_outbox_ring WHERE seq > (SELECT acknowledged_seq FROM event_outbox_state)
        UNION ALL
        SELECT seq, created_at, event FROM event_outbox WHERE seq > (SELECT acknowledged_seq FROM event_outbox_state);
    `,
  },
];

export const OUTBOX_SQL = {
  /** An event into its slot: a new row on the ring's first lap, an overwrite in place after. */
  putSlot: `INSERT INTO event_outbox_ring (slot, seq, created_at, event) VALUES (?, ?, ?, ?)
            ON CONFLICT (slot) DO UPDATE SET seq = excluded.seq, created_at = excluded.created_at, event = excluded.event`,
  /** An event whose slot still holds an unacknowledged one (the ring is full). */
  putOverflow: "INSERT INTO event_outbox (seq, created_at, event) VALUES (?, ?, ?)",
  /** The events of a seq range in a range of slots: a range scan of the ring's rowid. */
  slots: "SELECT seq, created_at, event FROM event_outbox_ring WHERE slot BETWEEN ? AND ? AND seq > ? AND seq <= ?",
  /** …and in the overflow: a range scan of its rowid. */
  overflow: "SELECT seq, created_at, event FROM event_outbox WHERE seq > ? AND seq <= ?",
  state: "SELECT ring_slots AS ringSlots, acknowledged_seq AS acknowledgedSeq FROM event_outbox_state",
  /** The highest seq kept: a scan of the ring (no index on seq), once at start. */
  highest: "SELECT max(seq) AS seq FROM (SELECT max(seq) AS seq FROM event_outbox_ring UNION ALL SELECT max(seq) FROM event_outbox)",
  /** The broker acknowledged every event up to a seq: the mark moves (never back)… */
  acknowledge: "UPDATE event_outbox_state SET acknowledged_seq = ?1 WHERE id = 1 AND acknowledged_seq < ?1",
  /** …and the overflow rows under it go (a prefix: one range delete; none, unless the ring filled). */
  deleteOverflowUpTo: "DELETE FROM event_outbox WHERE seq <= ?",
  backlog: "SELECT count(*) AS n, min(created_at) AS oldest FROM event_outbox_waiting",
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

/** Page cache the ring is given, per slot, on top of the connection's own: a slot's page is
 * written again one lap later, and an overwrite reads the page first. An order's events are
 * ~540 bytes each (~2.3 MB for 4,096 slots), so 1 KiB a slot keeps a ring of events up to
 * twice that size cached. */
const CACHE_KIB_PER_SLOT = 1;
/** SQLite's own default page cache (PRAGMA cache_size = -2000: 2,000 KiB), which the rest of
 * the file's hot pages use. */
const DEFAULT_CACHE_KIB = 2000;

/** Events the relay may hold in memory before it reads them from the table instead. */
const MAX_CACHED = 10_000;
/** Seqs read from the table per step: the relay's batch, so a step is one read of each table
 * (not a step per seq when a rolled-back batch left a gap, or for the warning's one row). */
const READ_WINDOW = 500;

interface StoredRow {
  seq: number;
  created_at: number;
  event: string;
}

export class EventOutbox {
  private nextSeq: number;
  /** Every row with a seq up to this one has committed (or rolled back): the relay may read them. */
  private committed: number;
  /** The broker has every event up to this seq: their slots may be taken again. In memory;
   * the file's mark (deleteUpTo) follows once a second. */
  private acknowledgedSeq: number;
  private readonly ringSlots: number;
  private readonly listeners = new Set<() => void>();
  /**
   * The events committed since the relay last caught up with the table, in seq order, kept so
   * that a relay that keeps up needs no SELECT and no JSON.parse per event (they were a third of
   * the outbox's cost per order). Off while the table holds events the cache does not (at start,
   * or after MAX_CACHED piled up while the broker was away): the relay then reads the table, and
   * the cache starts again the moment a read reaches the last committed event.
   */
  private cache: OutboxRow[] | null = [];
  private readonly putSlot: ReturnType<Db["sqlite"]["prepare"]>;
  private readonly putOverflow: ReturnType<Db["sqlite"]["prepare"]>;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {
    const state = db.sqlite.query(OUTBOX_SQL.state).get() as { ringSlots: number; acknowledgedSeq: number };
    this.ringSlots = state.ringSlots;
    this.acknowledgedSeq = state.acknowledgedSeq;
    const highest = Math.max((db.sqlite.query(OUTBOX_SQL.highest).get() as { seq: number | null }).seq ?? 0, state.acknowledgedSeq);
    this.nextSeq = highest + 1;
    this.committed = highest;
    if (highest > state.acknowledgedSeq) this.cache = null; // events left by the previous process: read them first
    keepRingCached(db, this.ringSlots);
    this.putSlot = db.sqlite.prepare(OUTBOX_SQL.putSlot);
    this.putOverflow = db.sqlite.prepare(OUTBOX_SQL.putOverflow);
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
    // The slot's event (seq - ringSlots, or older) went to the broker: overwrite it. Otherwise
    // the broker is behind by a whole ring: this one waits in the overflow, and the unsent
    // event stays where it is.
    if (seq - this.ringSlots <= this.acknowledgedSeq) this.putSlot.run(seq % this.ringSlots, seq, this.now(), json);
    else this.putOverflow.run(seq, this.now(), json);
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
    const rows = this.read(limit, after).map((row) => ({ seq: row.seq, event: JSON.parse(row.event) as Event, json: row.event }));
    // Caught up with the table: from here on every commit is cached (nothing can commit
    // between this read and this line: both run in one synchronous turn).
    if (rows.length < limit) this.cache = rows;
    return rows;
  }

  /**
   * Up to `limit` stored events after `after` (and after what the broker acknowledged: the
   * ring keeps those until their slots are taken), in seq order; fewer only when none are left
   * up to `committed`. Reads windows of seqs, each at most a ring long so its slots are
   * distinct: a window's events are in its slots (those whose seq is in it: a slot may hold
   * an older or newer one) or in the overflow.
   */
  private read(limit: number, after: number): StoredRow[] {
    const rows: StoredRow[] = [];
    let from = Math.max(after, this.acknowledgedSeq);
    while (rows.length < limit && from < this.committed) {
      const to = Math.min(this.committed, from + Math.min(READ_WINDOW, this.ringSlots));
      const first = (from + 1) % this.ringSlots;
      const last = to % this.ringSlots;
      const slots = this.db.sqlite.query(OUTBOX_SQL.slots);
      const found = first <= last
        ? (slots.all(first, last, from, to) as StoredRow[])
        : [...(slots.all(first, this.ringSlots - 1, from, to) as StoredRow[]), ...(slots.all(0, last, from, to) as StoredRow[])];
      found.push(...(this.db.sqlite.query(OUTBOX_SQL.overflow).all(from, to) as StoredRow[]));
      rows.push(...found.sort((a, b) => a.seq - b.seq));
      from = to;
    }
    return rows.length > limit ? rows.slice(0, limit) : rows;
  }

  /** The relay goes back to events it already read (their publication was not confirmed): the
   * cache dropped them, so it reads the table until it has caught up again. */
  rewind(): void {
    this.cache = null;
  }

  /** The broker has every event up to `seq`: their slots may be overwritten from now on (a
   * crash before deleteUpTo records it only sends them again: at least once). */
  acknowledged(seq: number): void {
    if (seq > this.acknowledgedSeq) this.acknowledgedSeq = seq;
  }

  /** Records that the broker acknowledged every event up to `seq` (the file's high-water mark;
   * the overflow rows under it go). Joins the next group commit: one small row, once a second. */
  deleteUpTo(seq: number): Promise<void> {
    this.acknowledged(seq);
    return this.db.write(() => {
      this.db.sqlite.query(OUTBOX_SQL.acknowledge).run(seq);
      this.db.sqlite.query(OUTBOX_SQL.deleteOverflowUpTo).run(seq);
    });
  }

  /** What waits to be sent after `after`, cheaply (no count over the table): the number is an
   * upper bound when transactions rolled back, exact otherwise. */
  waitingAfter(after: number): OutboxBacklog {
    const from = Math.max(after, this.acknowledgedSeq);
    const oldest = this.read(1, from)[0];
    return { n: oldest ? this.committed - from : 0, oldestCreatedAt: oldest?.created_at ?? null };
  }
}

/**
 * Grows the connection's page cache so the ring's pages stay in it. With SQLite's default
 * 2 MB the ring (~2.3 MB) did not fit: each slot's page had been evicted by the time its slot
 * came round again, so every overwrite read it back (from the WAL or the file), and the ring's
 * passage pushed the other tables' hot pages out too — the orders' own reads and inserts paid
 * for it (a CPU profile of `serve` under load: ~15 µs per order in the ring's insert, ~14 µs
 * more in the model store and the job insert). The cache only takes memory for pages used.
 * Never shrinks a cache set larger.
 */
function keepRingCached(db: Db, ringSlots: number): void {
  const { cache_size: size } = db.sqlite.query("PRAGMA cache_size").get() as { cache_size: number };
  const { page_size: pageSize } = db.sqlite.query("PRAGMA page_size").get() as { page_size: number };
  const currentKib = size < 0 ? -size : (size * pageSize) / 1024; // negative: KiB; positive: pages
  const wantedKib = DEFAULT_CACHE_KIB + ringSlots * CACHE_KIB_PER_SLOT;
  if (currentKib < wantedKib) db.sqlite.run(`PRAGMA cache_size = -${wantedKib}`);
}

/** The outbox's backlog read from a file (for /metrics): what waits for the broker — above the
 * file's high-water mark, so up to a second's worth already sent is counted too. Scans the
 * ring (a few MB at most) per scrape. */
export function outboxBacklog(db: Db): OutboxBacklog {
  const row = db.sqlite.query(OUTBOX_SQL.backlog).get() as { n: number; oldest: number | null };
  return { n: row.n, oldestCreatedAt: row.oldest };
}
