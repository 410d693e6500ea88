// Files Backroom creates are readable by their owner only: the database (and with it SQLite's
// -wal, -shm and -journal files, which SQLite creates with the database file's permissions),
// the owner lock, backups and the outbox's .eml files hold customers' e-mail addresses and
// orders, token hashes and webhook secrets. With the usual umask 022 they would be created
// 0644, readable by every account on the till. Files are created 0600 and folders 0700,
// whatever the umask; an existing file keeps the mode its owner gave it.
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `path` as an empty file with mode 0600 and returns true, or returns false (and
 * touches nothing) when it already exists. Exclusive creation, so two callers never both
 * believe they made it. The explicit chmod makes the mode exact: a umask may only remove bits.
 */
export function createPrivateFile(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}
