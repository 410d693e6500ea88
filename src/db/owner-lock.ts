// The single-owner lock: at most one process may write a database file.
//
// We hold an exclusive SQLite lock on a small sibling file (`<path>-lock`) for as long as
// the owner lives. SQLite takes POSIX advisory locks, which the kernel releases when the
// process exits for any reason (kill -9, power cut on reboot), so a crash never leaves a
// stale lock behind — unlike a pid file. Readers never touch this file, so a read-only
// open of the main database stays possible while a server runs.
import { Database } from "bun:sqlite";
import { DatabaseInUseError } from "./errors.ts";
import { createPrivateFile } from "./private-files.ts";

export interface OwnerLock {
  release(): void;
}

/**
 * Every lock held, until released: a Database nobody references is garbage-collected and its
 * connection closed — and with it the lock, while the process still runs and may still write
 * through another reference (seen: a holder that kept only an unused variable lost its lock
 * ~30 ms after taking it). Only release() (Db.close()) or the process's end lets go.
 */
const held = new Set<Database>();

export function acquireOwnerLock(path: string): OwnerLock {
  const lockPath = `${path}-lock`;
  createPrivateFile(lockPath); // 0600, as the database (private-files.ts)
  const lock = new Database(lockPath, { create: true });
  try {
    // No waiting: a second owner must fail at once with a clear message, not hang.
    lock.run("PRAGMA busy_timeout = 0");
    // EXCLUSIVE locking mode keeps a lock once taken until close(); an exclusive transaction
    // takes the write lock. It writes nothing (but a new file's header), so nothing is synced:
    // a row written here on every start cost a journal and three fsyncs, 10-15 ms of a start.
    lock.run("PRAGMA locking_mode = EXCLUSIVE");
    lock.run("BEGIN EXCLUSIVE");
    lock.run("COMMIT");
  } catch (error) {
    lock.close();
    if (isBusy(error)) throw new DatabaseInUseError(path);
    throw error;
  }
  held.add(lock);
  return {
    release: () => {
      held.delete(lock);
      lock.close();
    },
  };
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || /database is locked/i.test(String(error));
}
