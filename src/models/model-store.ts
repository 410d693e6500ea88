// Reads and writes of one model's table. Every write is one transaction holding the write and
// its pipeline hooks; records come back in wire form (ISO times, JSON values).
import type { Statement } from "bun:sqlite";
import { monotonicFactory } from "../ulid.ts";
import { keyOf, listRows, type Condition, type ListQuery, type Scalar } from "../db/list-query.ts";
import { notFound } from "../errors.ts";
import type { Model } from "./model.ts";
import { rowToJson } from "./serialize.ts";
import type { ModelRecords, Scope, Services, WireRecord, WriteContext, WriteHooks, WriteOperation } from "./services.ts";
import { parseTime } from "./time-field.ts";
import { validateBody } from "./validate.ts";

/** Thrown inside updateIf's savepoint to roll back a write whose expected state went away. */
const STALE = Symbol("stale");

export class ModelStore implements ModelRecords {
  private readonly nextId = monotonicFactory();
  private readonly table: string;

  constructor(
    readonly model: Model,
    private readonly services: () => Services,
  ) {
    this.table = `"${model.table}"`;
  }

  get(id: string, scope?: Scope): WireRecord | null {
    const row = this.selectById().get(id) as Record<string, unknown> | null;
    if (!row || !this.inScope(row, scope)) return null;
    return rowToJson(row, this.model.columns);
  }

  /** A page of records, with each one's sort keys in storage form (what a keyset cursor holds). */
  list(query: ListQuery, scope?: Scope): { rows: WireRecord[]; total: number; keys: Scalar[][] } {
    const where = [...this.scopeConditions(scope), ...query.where];
    const { rows, total } = listRows<Record<string, unknown>>(this.db.sqlite, this.model.table, this.model.columns, { ...query, where });
    // The keys only a keyset page needs are read from the stored rows when asked for.
    return { rows: rows.map((r) => rowToJson(r, this.model.columns)), total, get keys() { return rows.map((r) => keyOf(r, query)); } };
  }

  /** Inserts a record after validating it against the model. The owner field, if any, is the caller. */
  create(values: unknown, context: WriteContext): WireRecord {
    const valid = validateBody<WireRecord>(this.model.validateCreate, values);
    return this.db.transaction(() => {
      const record = { ...this.model.definition.defaults, ...valid };
      if (this.model.ownerField) record[this.model.ownerField] = context.auth?.id ?? null;
      this.hooks("before", "create", record, null, context);
      const now = this.clock.now();
      const row: Record<string, unknown> = { id: this.nextId(now), ...this.toStorage(record), created_at: now, updated_at: now };
      const names = Object.keys(row);
      const inserted = this.db.sqlite
        .query(`INSERT INTO ${this.table} (${names.map((n) => `"${n}"`).join(", ")}) VALUES (${names.map(() => "?").join(", ")}) RETURNING *`)
        .get(...(Object.values(row) as never[])) as Record<string, unknown>;
      const stored = rowToJson(inserted, this.model.columns);
      this.hooks("after", "create", stored, null, context);
      return stored;
    });
  }

  /**
   * Changes some fields of a record ("patch"), or all of them ("replace"), after validating
   * them; 404 when it does not exist (or is not the caller's).
   */
  update(id: string, changes: unknown, context: WriteContext, scope?: Scope, mode: "patch" | "replace" = "patch"): WireRecord {
    const valid = validateBody<WireRecord>(mode === "patch" ? this.model.validateUpdate : this.model.validateCreate, changes);
    return this.db.transaction(() => {
      const updated = this.write(id, valid, context, scope, {});
      if (!updated || updated === STALE) throw notFound(this.model.name);
      return updated;
    });
  }

  /**
   * A compare-and-set patch: changes the record only while it still holds every `expected`
   * value (wire form; null matches NULL), re-checked in the UPDATE itself. Null when it does
   * not, or no longer exists — then nothing was written and no hook's work is kept.
   */
  updateIf(id: string, expected: WireRecord, changes: unknown, context: WriteContext): WireRecord | null {
    const valid = validateBody<WireRecord>(this.model.validateUpdate, changes);
    try {
      return this.db.transaction(() => {
        const updated = this.write(id, valid, context, undefined, expected);
        // A before-hook changed the row out of the expected state: undo whatever it did.
        if (updated === STALE) throw STALE;
        return updated;
      });
    } catch (error) {
      if (error === STALE) return null;
      throw error;
    }
  }

  /** One update inside the caller's transaction: null when absent, STALE when `expected` no longer holds. */
  private write(id: string, valid: WireRecord, context: WriteContext, scope: Scope | undefined, expected: WireRecord): WireRecord | null | typeof STALE {
    const previous = this.get(id, scope);
    if (!previous || !Object.entries(expected).every(([name, value]) => previous[name] === value)) return null;
    const record = { ...valid };
    this.hooks("before", "update", record, previous, context);
    const values = { ...this.toStorage(record), updated_at: this.clock.now() };
    const names = Object.keys(values);
    const guard = Object.entries(this.toStorage(expected));
    const updated = this.db.sqlite
      .query(`UPDATE ${this.table} SET ${names.map((n) => `"${n}" = ?`).join(", ")} WHERE "id" = ?${guard.map(([n, v]) => (v === null ? ` AND "${n}" IS NULL` : ` AND "${n}" = ?`)).join("")} RETURNING *`)
      .get(...(Object.values(values) as never[]), id, ...(guard.map(([, v]) => v).filter((v) => v !== null) as never[])) as Record<string, unknown> | null;
    if (!updated) return STALE;
    const stored = rowToJson(updated, this.model.columns);
    this.hooks("after", "update", stored, previous, context);
    return stored;
  }

  /** Deletes a record; 404 when it does not exist (or is not the caller's). */
  remove(id: string, context: WriteContext, scope?: Scope): void {
    this.db.transaction(() => {
      const previous = this.get(id, scope);
      if (!previous) throw notFound(this.model.name);
      this.hooks("before", "delete", previous, previous, context);
      this.db.sqlite.query(`DELETE FROM ${this.table} WHERE "id" = ?`).run(id);
      this.hooks("after", "delete", previous, previous, context);
    });
  }

  private hooks(position: "before" | "after", operation: WriteOperation, record: WireRecord, previous: WireRecord | null, context: WriteContext): void {
    this.pipeline.run(position, { model: this.model.name, operation, record, previous, auth: context.auth, traceparent: context.traceparent ?? null, services: context.services });
  }

  /** Wire values to storage: booleans 0/1, JSON as text; only declared fields pass. */
  private toStorage(record: WireRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const column of this.model.columns) {
      if (!(column.name in record) || !this.model.fieldNames.includes(column.name)) continue;
      const value = record[column.name];
      if (value === undefined) continue;
      out[column.name] = value === null ? null : column.type === "json" ? JSON.stringify(value) : column.type === "boolean" ? (value ? 1 : 0) : column.type === "time" ? parseTime(column.name, value as string) : value;
    }
    return out;
  }

  private scopeConditions(scope?: Scope): Condition[][] {
    return Object.entries(this.scopeValues(scope)).map(([field, value]) => [{ field, op: "eq", value }]);
  }

  private inScope(row: Record<string, unknown>, scope?: Scope): boolean {
    return Object.entries(this.scopeValues(scope)).every(([field, value]) => row[field] === value);
  }

  private scopeValues(scope?: Scope): Record<string, string | number> {
    if (!scope) return {};
    const owner = this.model.ownerField && scope.ownerId !== undefined ? { [this.model.ownerField]: scope.ownerId } : {};
    return { ...scope.visible, ...owner };
  }


  private selectById(): Statement {
    return this.db.sqlite.query(`SELECT * FROM ${this.table} WHERE "id" = ?`);
  }

  private get db() {
    return this.services().db;
  }
  private get clock() {
    return this.services().clock;
  }
  private get pipeline(): WriteHooks {
    return this.services().pipeline;
  }
}
