// Scheduled transitions of a model (the seeds' "Scheduled Fields"): "a draft book becomes
// published at publish_at", "an unpaid order expires 30 minutes after created_at". Checked
// once, when the model is defined, and turned into the SQL the runner uses and the partial
// index that serves it (src/models/scheduled-runner.ts applies them).
//
// The from-state is spliced into the SQL as literals, never bound: SQLite uses a partial index
// only when the query's WHERE visibly implies the index's, and a `?` proves nothing. The values
// come from the code's own declaration, are checked against the field's schema, and are quoted.
import { OptionalKind, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Column } from "../db/list-query.ts";

export type StateValue = string | number | boolean | null;

export interface ScheduledDeclaration {
  /** Names the transition and its index `<table>_due_<name>`: snake_case, unique in the model. */
  name: string;
  /** The time it keys on: created_at, updated_at or a declared time field (`format: "date-time"`). */
  field: string;
  /** Due this many milliseconds after the field's time (default 0; negative: before it). */
  after?: number;
  /** The from-state: a row holding all these values is a candidate. Scalar declared fields only. */
  where: Record<string, StateValue>;
  /** What the transition writes, through the model store (so hooks, events and webhooks run). */
  set: Record<string, unknown>;
  /**
   * The model migration version that introduced this transition: its index is created at the
   * end of that version. Default 1 (the CREATE TABLE). A transition added to a released model
   * names a new version, so files that already have version 1 get the index too.
   */
  since?: number;
}

export interface ScheduledTransition extends Required<ScheduledDeclaration> {
  index: string;
  sql: {
    createIndex: string;
    /** Due rows after a (time, id) cursor, oldest first: ?1 = now - after, ?2/?3 = cursor, ?4 = batch. */
    due: string;
    /** The earliest time among rows in the from-state (add `after` for when it falls due). */
    nextDue: string;
  };
}

/** What defineModel knows that the checks need. */
export interface ScheduledContext {
  model: string;
  table: string;
  columns: readonly Column[];
  properties: Record<string, TSchema>;
  /** The schema of a partial update (what `set` must satisfy): checked uncompiled, once per declaration. */
  updateSchema: TSchema;
  /** Versions of the model's later migrations (2, 3, …). */
  migrationVersions: readonly number[];
  /** The version whose migration adds a field's column (absent: version 1). */
  addedIn: ReadonlyMap<string, number>;
}

const MAX_OFFSET_MS = 10 * 366 * 86_400_000;

export function compileScheduled(declarations: readonly ScheduledDeclaration[], context: ScheduledContext): ScheduledTransition[] {
  const names = new Set<string>();
  return declarations.map((d) => {
    const fail = (message: string): never => {
      throw new Error(`model ${context.model}: scheduled "${d.name}": ${message}`);
    };
    if (typeof d.name !== "string" || !/^[a-z][a-z0-9_]*$/.test(d.name)) fail("name must be snake_case");
    if (names.has(d.name)) fail("a model's scheduled transitions need distinct names");
    names.add(d.name);

    const column = context.columns.find((c) => c.name === d.field);
    if (!column) fail(`field "${d.field}" does not exist`);
    if (column!.type !== "time") fail(`field "${d.field}" is not a time (declare it t.String({ format: "date-time" }), or use created_at or updated_at)`);
    const after = d.after ?? 0;
    if (!Number.isSafeInteger(after) || Math.abs(after) > MAX_OFFSET_MS) fail(`after must be whole milliseconds within ±10 years, not ${d.after}`);

    const where = Object.entries(d.where ?? {});
    if (where.length === 0) fail("where (the from-state) must name at least one field");
    for (const [name, value] of where) checkStateValue(name, value, context, fail);

    if (!d.set || Object.keys(d.set).length === 0) fail("set must name at least one field");
    if (!Value.Check(context.updateSchema, d.set)) {
      const error = Value.Errors(context.updateSchema, d.set).First();
      fail(`set is not a valid change: ${error ? `${error.path.replace(/^\//, "") || "(set)"} ${error.message}` : "invalid"}`);
    }
    // Otherwise the row stays in the from-state, due for ever, and is rewritten at every pass.
    if (!where.some(([name, value]) => name in d.set && d.set[name] !== value)) fail("set must move the row out of the from-state (change a where field)");

    const since = d.since ?? 1;
    if (since !== 1 && !context.migrationVersions.includes(since)) fail(`since ${since} names no migration of the model`);
    for (const name of [d.field, ...where.map(([n]) => n)]) {
      const added = context.addedIn.get(name) ?? 1;
      if (added > since) fail(`field "${name}" is added by migration ${added}, so the index can be created no earlier (since ≥ ${added})`);
    }

    const index = `${context.table}_due_${d.name}`;
    const fromState = where.map(([name, value]) => (value === null ? `"${name}" IS NULL` : `"${name}" = ${literal(value)}`)).join(" AND ");
    const from = `"${context.table}" INDEXED BY "${index}"`;
    return {
      name: d.name,
      field: d.field,
      after,
      where: Object.fromEntries(where),
      set: d.set,
      since,
      index,
      sql: {
        createIndex: `CREATE INDEX "${index}" ON "${context.table}" ("${d.field}", "id") WHERE ${fromState};`,
        // INDEXED BY: if the index is ever missing or unusable this fails loudly instead of
        // quietly scanning the table on every wake.
        due: `SELECT "id", "${d.field}" AS at FROM ${from} WHERE ${fromState} AND "${d.field}" <= ?1 AND ("${d.field}", "id") > (?2, ?3) ORDER BY "${d.field}", "id" LIMIT ?4`,
        nextDue: `SELECT min("${d.field}") AS at FROM ${from} WHERE ${fromState}`,
      },
    };
  });
}

function checkStateValue(name: string, value: unknown, context: ScheduledContext, fail: (message: string) => never): void {
  const schema = context.properties[name];
  if (!schema) fail(`where names "${name}", which is not a declared field`);
  const column = context.columns.find((c) => c.name === name)!;
  if (!["text", "integer", "real", "boolean"].includes(column.type)) fail(`where field "${name}" must be a string, number or boolean field, not ${column.type}`);
  // An optional field that was left out is stored as NULL, so "where it is null" is a real state.
  const nullable = schema![OptionalKind] === "Optional" || Value.Check(schema!, null);
  if (value === null ? !nullable : !Value.Check(schema!, value)) fail(`where ${name} = ${JSON.stringify(value)} is not a valid value of the field`);
}

function literal(value: Exclude<StateValue, null>): string {
  if (typeof value === "boolean") return value ? "1" : "0";
  if (typeof value === "number") return String(value);
  return `'${value.replaceAll("'", "''")}'`;
}
