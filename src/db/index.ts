export { Db, openDatabase, type OpenOptions, type Synchronous } from "./open.ts";
export { migrate, appliedVersions, pendingComponents, type Migration } from "./migrations.ts";
export { DatabaseInUseError, DatabaseNotWritableError, SchemaTooNewError } from "./errors.ts";
export type { GroupCommitOptions } from "./group-commit.ts";
