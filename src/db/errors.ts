// Errors raised while opening a database file. Each message says what to do next,
// because the person reading it is usually an operator at a store terminal.

/** Another process owns the file for writing. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
  constructor(readonly path: string) {
    super(
      `database ${path} is already in use by another Backroom process (lock on ${path}-lock). ` +
        `Stop that process first, or open the file read-only.`,
    );
  }
}

/** The file, or the folder SQLite must create its -wal, -shm and lock files in, cannot be written. */
export class DatabaseNotWritableError extends Error {
  override name = "DatabaseNotWritableError";
  constructor(
    readonly path: string,
    readonly what: string,
  ) {
    super(
      `database ${path} cannot be written: ${what} is read-only for this process (file permissions, or a read-only disk). ` +
        `Give this user write access to it, or open the file read-only.`,
    );
  }
}

/** The file's schema was written by a newer release than this one. */
export class SchemaTooNewError extends Error {
  override name = "SchemaTooNewError";
  constructor(
    readonly path: string,
    readonly component: string,
    readonly fileVersion: number,
    readonly knownVersion: number,
  ) {
    super(
      `database ${path} was written by a newer Backroom (${component} schema version ${fileVersion}, ` +
        `this release knows up to ${knownVersion}). Upgrade Backroom; do not open the file with an older release.`,
    );
  }
}
