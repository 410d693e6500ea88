// Opening a database file: pragmas, the single-owner lock, migrations.
//
// One process owns a file and writes through ONE connection (bun:sqlite is synchronous, so
// one connection is all a process can use for writes anyway). Read-only opens take no lock
// and run no migrations, so CLI tools can inspect a file while the server runs.
import { Database } from "bun:sqlite";
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";
import nodePath from "node:path";
import { randomBase32 } from "../ulid.ts";
import { DatabaseNotWritableError } from "./errors.ts";
import { acquireOwnerLock, type OwnerLock } from "./owner-lock.ts";
import { createPrivateFile } from "./private-files.ts";
import { CommitHooks, runCommitted } from "./commit-hooks.ts";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.ts";
import { assertNotNewer, migrate, type Migration } from "./migrations.ts";

export type Synchronous = "FULL" | "NORMAL";

export interface OpenOptions {
  /** FULL (default) survives a power cut; NORMAL is faster and survives a process crash only. */
  synchronous?: Synchronous;
  /** Open without the owner lock and without migrating; writes fail. */
  readonly?: boolean;
  /** How long a statement waits for a lock held by a reader's checkpoint. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Migrations to apply at open (ignored when read-only, but still checked for "too new"). */
  migrations?: readonly Migration[];
  /** Group commit of `db.write()` units: window and batch size. */
  groupCommit?: GroupCommitOptions;
}

export class Db {
  /**
   * Identifies this owner's claims, so jobs left running by a dead owner can be told apart.
   * It is written on every claimed row and kept on succeeded ones (the worker that ran the
   * attempt), so it is short: 12 random base-32 characters (60 bits), not a 26-character ULID
   * — 14 bytes less per job, measured at 3.6% fewer WAL frames per 10,000 jobs processed.
   */
  readonly ownerId = randomBase32(12);

  private readonly group: GroupCommit;
  private readonly hooks = new CommitHooks();

  constructor(
    readonly sqlite: Database,
    readonly path: string,
    readonly readonly: boolean,
    private readonly lock: OwnerLock | null,
    groupCommit: GroupCommitOptions = {},
  ) {
    this.group = new GroupCommit(sqlite, this.hooks, groupCommit);
  }

  /**
   * Runs `fn` now as one atomic unit of a group-committed transaction and resolves with its
   * result once that transaction is committed (see group-commit.ts). This is how requests
   * write: their units share commits, and none is answered before its work is durable.
   */
  write<T>(fn: () => T): Promise<T> {
    return this.group.write(fn);
  }

  /** Resolves when everything written so far is durable; at once when nothing is pending. */
  whenFlushed(): Promise<void> {
    return this.group.whenFlushed();
  }

  /** Like whenFlushed, but null (no promise, no tick) when no group batch is open: the common case. */
  pendingFlush(): Promise<void> | null {
    return this.group.open ? this.group.whenFlushed() : null;
  }

  /**
   * Before a write outside `write()` and outside a transaction: commits an open group batch
   * first, so that this write is not silently deferred into it.
   */
  settlePending(): void {
    if (this.group.open && !this.group.insideWrite) this.group.flush();
  }

  /**
   * Runs `fn` atomically and synchronously: a top-level call is its own IMMEDIATE transaction
   * (committing any open group batch first, so "returned" still means "durable"), a nested
   * call a SAVEPOINT. `fn` must be synchronous: with one shared connection, anything another
   * task wrote while `fn` awaited would join this transaction — so a returned promise is
   * refused and everything `fn` did is rolled back.
   */
  transaction<T>(fn: () => T): T {
    this.settlePending();
    const guarded = this.sqlite.transaction(() => {
      const result = fn();
      if (isThenable(result)) throw new TypeError("db.transaction(fn): fn must be synchronous (no async/await inside a transaction)");
      return result;
    });
    this.hooks.open();
    let result: T;
    try {
      result = this.sqlite.inTransaction ? guarded() : guarded.immediate();
    } catch (error) {
      this.hooks.discard();
      throw error;
    }
    runCommitted(this.hooks.close()); // only the outermost level has anything to run: it has committed
    return result;
  }

  /**
   * Runs `callback` once the transaction open now has committed (at once when none is open);
   * never if it rolls back. For effects that must not run ahead of the data: events.
   */
  afterCommit(callback: () => void): void {
    this.hooks.add(callback);
  }

  close(): void {
    this.group.flush();
    // Fold the WAL back into the file, so a clean stop leaves one file and a short recovery.
    if (!this.readonly && this.lock) {
      try {
        this.sqlite.run("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {}
    }
    this.sqlite.close();
    this.lock?.release();
  }
}

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  const inMemory = path === ":memory:" || path === "";
  if (options.readonly) {
    const sqlite = new Database(path, { readonly: true, strict: true });
    sqlite.run(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    assertNotNewer(sqlite, path, options.migrations ?? []);
    return new Db(sqlite, path, true, null);
  }

  if (!inMemory) assertDirectoryExists(path);
  if (!inMemory) assertWritable(path);
  const lock = inMemory ? null : acquireOwnerLock(path);
  let sqlite: Database | undefined;
  try {
    // Created 0600 before SQLite opens it: SQLite gives the -wal and -shm files the same mode.
    if (!inMemory) createPrivateFile(path);
    sqlite = new Database(path, { create: true, strict: true });
    sqlite.run(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!inMemory) sqlite.run("PRAGMA journal_mode = WAL");
    sqlite.run(`PRAGMA synchronous = ${options.synchronous ?? "FULL"}`);
    sqlite.run("PRAGMA foreign_keys = ON");
    // Savepoint (sub-)journals in memory: every group-commit unit is a SAVEPOINT, and each page a
    // unit changes is copied to the journal first (to roll that unit back alone). On a file, a
    // unit past 64 KiB of them (a worker's settle of many jobs) spilled the journal to a temp
    // file for the rest of the batch: two pwrite calls per page of every later unit. Never needed
    // after a crash (the WAL is what commits), so durability is unchanged; memory is bounded by
    // what one unit changes, and a released unit's part is dropped. Temporary tables and indices
    // (a query's ephemeral sort or DISTINCT) are held in memory too: small for this schema's
    // queries, but a one-off statement over a whole large table would hold its temp b-tree in RAM.
    sqlite.run("PRAGMA temp_store = MEMORY");
    migrate(sqlite, path, options.migrations ?? []);
    return new Db(sqlite, path, false, lock, options.groupCommit);
  } catch (error) {
    sqlite?.close();
    lock?.release();
    throw error;
  }
}

function assertDirectoryExists(path: string): void {
  const dir = nodePath.dirname(path);
  if (!fs.existsSync(dir)) throw new Error(`cannot open database ${path}: directory ${dir} does not exist`);
}

/** SQLite opens a file it cannot write read-only without a word, and the first write then fails
 * far from here ("attempt to write a readonly database"): refuse at open, saying what to fix. */
function assertWritable(path: string): void {
  const writable = (target: string) => {
    try {
      fs.accessSync(target, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (fs.existsSync(path) && !writable(path)) throw new DatabaseNotWritableError(path, `the file ${path}`);
  if (!writable(nodePath.dirname(path))) throw new DatabaseNotWritableError(path, `its folder ${nodePath.dirname(path)}`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
