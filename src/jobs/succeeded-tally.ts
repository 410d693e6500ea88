// Succeeded jobs per queue, for the queues page, kept without a write in every settle's commit.
//
// Counting a million succeeded rows is a scan, so the counts are kept in job_queue_succeeded.
// Adding to them in every settle wrote one more page per commit (83 of ~1,700 WAL frames per
// 10,000 jobs processed: under synchronous=FULL, that much more to fsync). So while a backlog
// is worked off, successes are added up here and written about once a second; all of them
// are written when the backlog drains (a claim took less than it could) or the worker stops.
// Until then the owner's queueStates() adds them in; another process reading the file (the CLI)
// sees counts up to a second behind.
//
// Exact after a crash: the write that leaves successes only in memory also sets the file's
// mark (job_queue_succeeded_behind), the write that catches up clears it, and a start that
// finds it set counts again — one scan, paid only after a crash during a backlog.
import type { Statement } from "bun:sqlite";
import type { Db } from "../db/open.ts";
import { SQL } from "./sqlite-schema.ts";

const WRITE_EVERY_MS = 1_000;

/** One tally per open file: every SqliteQueue on it shares it, so none writes another's successes twice. */
const tallies = new WeakMap<Db, SucceededTally>();

export class SucceededTally {
  /** Committed successes not yet added to job_queue_succeeded, by queue. */
  private readonly unwritten = new Map<string, number>();
  /** The file's mark as committed: its counts may lack successes held here. */
  private behind = false;
  private writtenAt = 0;
  /** A write of `unwritten` is in a transaction not yet committed: no other may write it again. */
  private writing = false;
  private readonly statements = new Map<string, Statement>();

  static of(db: Db): SucceededTally {
    let tally = tallies.get(db);
    if (!tally) tallies.set(db, (tally = new SucceededTally(db)));
    return tally;
  }

  private constructor(private readonly db: Db) {
    if (db.readonly) return;
    const mark = this.statement(SQL.succeededBehind).get() as { behind: number } | null;
    if (mark?.behind) {
      db.transaction(() => {
        this.statement(SQL.clearSucceeded).run();
        this.statement(SQL.recountSucceeded).run();
        this.statement(SQL.setSucceededBehind).run(0);
      });
    }
  }

  /**
   * In a settle's transaction: the queue of each job it succeeded. `drained`: the claim took
   * less than it could (or nothing was to be claimed), so the backlog is gone for now.
   */
  settled(queues: readonly string[], drained: boolean, now: number): void {
    const delta = countByQueue(queues);
    if (this.writing) {
      // An earlier write in this open batch holds `unwritten`: this one's own go straight in.
      this.write(delta, 1);
      return;
    }
    const pending = delta.size > 0 || this.unwritten.size > 0;
    const due = drained ? pending || this.behind : pending && (!this.behind || now - this.writtenAt >= WRITE_EVERY_MS);
    if (!due) {
      // The file's mark is set (committed): these may wait in memory.
      if (delta.size > 0) this.db.afterCommit(() => addInto(this.unwritten, delta, 1));
      return;
    }
    const written = new Map(this.unwritten);
    this.write(written, 1);
    this.write(delta, 1);
    const behind = !drained;
    if (behind !== this.behind) this.statement(SQL.setSucceededBehind).run(behind ? 1 : 0);
    this.writing = true;
    this.db.afterCommit(() => {
      addInto(this.unwritten, written, -1);
      this.behind = behind;
      this.writtenAt = now;
      this.writing = false;
    });
    // Rolled back instead (a full disk): nothing was written, so `unwritten` stands.
    this.db.whenFlushed().catch(() => (this.writing = false));
  }

  /** Deleted succeeded jobs (one entry per job), taken off their queues' counts at once. */
  deleted(queues: readonly string[]): void {
    this.write(countByQueue(queues), -1);
  }

  /** Successes not in the file yet, as count rows to add to what it holds. */
  unwrittenCounts(): { queue: string; status: string; n: number }[] {
    return [...this.unwritten].map(([queue, n]) => ({ queue, status: "succeeded", n }));
  }

  private write(counts: ReadonlyMap<string, number>, sign: 1 | -1): void {
    for (const [queue, n] of counts) if (n !== 0) this.statement(SQL.countSucceeded).run(queue, sign * n);
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.sqlite.prepare(sql)));
    return statement;
  }
}

/** How many times each queue is listed: a batch of one queue (the usual) needs no map look-up per job. */
function countByQueue(queues: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  if (queues.length === 0) return counts;
  const first = queues[0]!;
  if (queues.every((queue) => queue === first)) return counts.set(first, queues.length);
  for (const queue of queues) counts.set(queue, (counts.get(queue) ?? 0) + 1);
  return counts;
}

function addInto(into: Map<string, number>, counts: ReadonlyMap<string, number>, sign: 1 | -1): void {
  for (const [queue, n] of counts) {
    const sum = (into.get(queue) ?? 0) + sign * n;
    if (sum === 0) into.delete(queue);
    else into.set(queue, sum);
  }
}
