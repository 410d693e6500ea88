// Versioned schema migrations, recorded per component ("jobs", "cron", "store", …) so a
// library user's own models migrate beside ours without sharing one version counter.
//
// Rules: a released migration is never edited, only followed by a new one; versions of a
// component run 1, 2, 3 … without gaps; all pending migrations apply in ONE transaction, so
// a failure leaves the file exactly as it was.
import type { Database } from "bun:sqlite";
import { SchemaTooNewError } from "./errors.ts";

export interface Migration {
  component: string;
  version: number;
  name: string;
  /** SQL text (may hold several statements) or a function run inside the transaction. */
  up: string | ((db: Database) => void);
}

const CREATE_SCHEMA_TABLE = `
  CREATE TABLE IF NOT EXISTS backroom_schema (
    component  TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL,
    PRIMARY KEY (component, version)
  )`;

/** The highest applied version of each component recorded in the file. */
export function appliedVersions(db: Database): Map<string, number> {
  return recordedVersions(db) ?? new Map();
}

/** As appliedVersions, but null when the file has no schema table yet. */
function recordedVersions(db: Database): Map<string, number> | null {
  const exists = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'backroom_schema'").get();
  if (!exists) return null;
  const rows = db
    .query("SELECT component, max(version) AS version FROM backroom_schema GROUP BY component")
    .all() as { component: string; version: number }[];
  return new Map(rows.map((r) => [r.component, r.version]));
}

/** Fails when the file holds a component version newer than any migration we know. */
export function assertNotNewer(db: Database, path: string, migrations: readonly Migration[], applied = appliedVersions(db)): void {
  const known = latestVersions(migrations);
  for (const [component, fileVersion] of applied) {
    const knownVersion = known.get(component);
    if (knownVersion !== undefined && fileVersion > knownVersion) {
      throw new SchemaTooNewError(path, component, fileVersion, knownVersion);
    }
  }
}

/** Applies every pending migration in one immediate transaction. Returns how many ran. */
export function migrate(db: Database, path: string, migrations: readonly Migration[], now = Date.now()): number {
  validate(migrations);
  // Nothing due (every start but the first after an upgrade): a read says so, without taking
  // the write lock or opening a transaction.
  const recorded = recordedVersions(db);
  if (recorded) {
    assertNotNewer(db, path, migrations, recorded);
    if ([...latestVersions(migrations)].every(([component, version]) => (recorded.get(component) ?? 0) >= version)) return 0;
  }
  const apply = db.transaction(() => {
    db.run(CREATE_SCHEMA_TABLE);
    assertNotNewer(db, path, migrations);
    const current = appliedVersions(db);
    let ran = 0;
    for (const m of [...migrations].sort(byComponentThenVersion)) {
      if (m.version <= (current.get(m.component) ?? 0)) continue;
      if (typeof m.up === "string") db.run(m.up);
      else m.up(db);
      db.run("INSERT INTO backroom_schema (component, version, name, applied_at) VALUES (?, ?, ?, ?)", [
        m.component,
        m.version,
        m.name,
        now,
      ]);
      ran++;
    }
    return ran;
  });
  return apply.immediate();
}

function latestVersions(migrations: readonly Migration[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const m of migrations) latest.set(m.component, Math.max(latest.get(m.component) ?? 0, m.version));
  return latest;
}

function validate(migrations: readonly Migration[]): void {
  const byComponent = new Map<string, number[]>();
  for (const m of migrations) byComponent.set(m.component, [...(byComponent.get(m.component) ?? []), m.version]);
  for (const [component, versions] of byComponent) {
    versions.sort((a, b) => a - b);
    versions.forEach((v, i) => {
      if (v !== i + 1) throw new Error(`migrations of "${component}" must be numbered 1, 2, 3 … without gaps or repeats`);
    });
  }
}

function byComponentThenVersion(a: Migration, b: Migration): number {
  return a.component === b.component ? a.version - b.version : a.component < b.component ? -1 : 1;
}

/** Components whose recorded version is behind the migrations given (empty: all current). */
export function pendingComponents(db: Database, migrations: readonly Migration[]): string[] {
  const applied = appliedVersions(db);
  return [...latestVersions(migrations)].filter(([component, version]) => (applied.get(component) ?? 0) < version).map(([c]) => c);
}
