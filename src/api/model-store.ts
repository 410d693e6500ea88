// Reads and writes of one model's table. Every write is one transaction holding the write and
// its pipeline hooks; records come back in wire form (ISO times, JSON values).
import type { Statement } from "bun:sqlite";
import { monotonicFactory } from "ulid";
import { listRows, type ListQuery } from "../db/list-query.ts";
import type { AuthUser } from "./auth.ts";
import { notFound } from "./errors.ts";
import type { Model } from "./model.ts";
import type { Pipeline, WriteOperation } from "./pipeline.ts";
import { rowToJson } from "./serialize.ts";
import { validateBody } from "./validate.ts";
import type { Services } from "./services.ts";

export type WireRecord = Record<string, unknown>;

export interface WriteContext {
  auth: AuthUser | null;
  services: Services;
  traceparent?: string | null;
}

/** Restricts reads and writes to one owner's rows (non-admin callers of an owned model). */
export interface Scope {
  ownerId: string;
}

export class ModelStore {
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

  list(query: ListQuery, scope?: Scope): { rows: WireRecord[]; total: number } {
    const where = scope && this.model.ownerField ? [...query.where, [{ field: this.model.ownerField, op: "eq" as const, value: scope.ownerId }]] : query.where;
    const { rows, total } = listRows<Record<string, unknown>>(this.db.sqlite, this.model.table, this.model.columns, { ...query, where });
    return { rows: rows.map((r) => rowToJson(r, this.model.columns)), total };
  }

  /** Inserts a record after validating it against the model. The owner field, if any, is the caller. */
  create(values: unknown, context: WriteContext): WireRecord {
    const valid = validateBody<WireRecord>(this.model.validateCreate, values);
    return this.db.transaction(() => {
      const record = { ...valid };
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
      const previous = this.get(id, scope);
      if (!previous) throw notFound(this.model.name);
      const record = { ...valid };
      this.hooks("before", "update", record, previous, context);
      const values = { ...this.toStorage(record), updated_at: this.clock.now() };
      const names = Object.keys(values);
      const updated = this.db.sqlite
        .query(`UPDATE ${this.table} SET ${names.map((n) => `"${n}" = ?`).join(", ")} WHERE "id" = ? RETURNING *`)
        .get(...(Object.values(values) as never[]), id) as Record<string, unknown>;
      const stored = rowToJson(updated, this.model.columns);
      this.hooks("after", "update", stored, previous, context);
      return stored;
    });
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
      out[column.name] = value === null ? null : column.type === "json" ? JSON.stringify(value) : column.type === "boolean" ? (value ? 1 : 0) : value;
    }
    return out;
  }

  private inScope(row: Record<string, unknown>, scope?: Scope): boolean {
    return !scope || !this.model.ownerField || row[this.model.ownerField] === scope.ownerId;
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
  private get pipeline(): Pipeline {
    return this.services().pipeline;
  }
}
