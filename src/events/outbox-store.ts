// Where an OutboxBus keeps its events until the broker has them: the seam between the one relay
// (outbox-bus.ts) and the tables it reads. Two stores: the database file's (EventOutbox,
// outbox.ts: model events, and job events on the file's own queue) and PostgreSQL's
// (PostgresEventOutbox, postgres-outbox.ts: job events written with a PostgreSQL queue's settle).
//
// `seq` is the store's own numbering of what it hands to the relay, increasing in the order the
// relay must publish: `next(limit, after)` answers what comes after the rows the relay has
// sent (those up to `after`), and `deleteUpTo(seq)` drops what the broker acknowledged.
import type { Event } from "./event.ts";
import type { OutboxBacklog, OutboxRow } from "./outbox.ts";

type Awaitable<T> = T | Promise<T>;

export interface OutboxStore {
  /** Keeps the event — in the write's transaction when the store has one open — and resolves once it is durable. */
  add(event: Event, json: string): Promise<void>;
  /** Calls `listener` when events may have been committed since the relay last read. */
  onCommitted(listener: () => void): () => void;
  /** Up to `limit` committed events after the relay's `after`, in publish order; [] when none (or none for this relay now). */
  next(limit: number, after?: number): Awaitable<OutboxRow[]>;
  /** The relay goes back to the last row the broker confirmed and reads on from there (what it
   * published after that was not confirmed). A store that has this answers next() past rows
   * published and not yet confirmed, and its relay confirms lazily (one flush for many
   * commits); without it, the relay confirms each batch before it reads on. */
  rewind?(): void;
  /** The broker acknowledged every row up to `seq` (told at once, in memory): a store that
   * reuses its rows (the file's ring) may take theirs again. */
  acknowledged?(seq: number): void;
  /** The broker acknowledged every row up to `seq`: they go, or are marked gone (the relay calls
   * this lazily, once a second). */
  deleteUpTo(seq: number): Promise<void>;
  /** What waits after `after`, for the relay's warning. */
  waitingAfter(after: number): Awaitable<OutboxBacklog>;
  /** Lets go of what the store holds (connections, listeners); what is unsent stays stored. */
  close?(): Promise<void>;
}
