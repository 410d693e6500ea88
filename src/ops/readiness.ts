// What /readyz checks for the binary: the database takes a write lock, the worker runs, and
// the file's schema is the one this release expects.
import { pendingComponents, type Migration } from "../db/migrations.ts";
import type { Db } from "../db/open.ts";

/** One named check of /readyz: true when it passes, else false or the reason it fails. */
export interface ReadinessCheck {
  name: string;
  check(): boolean | string;
}

export function readinessChecks(db: Db, migrations: readonly Migration[], workerRunning: () => boolean): ReadinessCheck[] {
  return [
    {
      name: "database_writable",
      check: () => {
        if (db.sqlite.inTransaction) return true; // a write is in progress: evidently writable
        db.sqlite.run("BEGIN IMMEDIATE");
        db.sqlite.run("ROLLBACK");
        return true;
      },
    },
    { name: "worker_running", check: () => workerRunning() || "the worker is not running" },
    {
      name: "migrations_current",
      check: () => {
        const pending = pendingComponents(db.sqlite, migrations);
        return pending.length === 0 || `pending migrations: ${pending.join(", ")}`;
      },
    },
  ];
}
