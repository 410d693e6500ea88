// What handlers, actions and hooks are given — the database, the queue, the model stores, the
// write pipeline — and what a hook receives. Built once per app by createApp; nothing here is
// module-level state.
//
// Interfaces only: the model store (model-store.ts) and the pipeline (pipeline.ts) implement
// WriteHooks and ModelRecords, and both hand hooks these Services, so this file imports neither
// (else services ↔ pipeline ↔ model store would form an import cycle).
import type { Clock } from "../clock.ts";
import type { ListQuery, Scalar } from "../db/list-query.ts";
import type { Db } from "../db/open.ts";
import type { EventBus } from "../events/bus.ts";
import type { Cancellable, Deletable, Prunable, QueueControl, Retryable, Source, StatusReader } from "../jobs/queue.ts";
import type { SyncEnqueue } from "../jobs/sync-queue.ts";
import type { Logger } from "../log.ts";
import type { Model } from "./model.ts";
import type { TokenService } from "./tokens.ts";
import type { AuthUser } from "./users.ts";

/** A queue whose enqueue is synchronous and joins the open transaction (SQLite, memory, forwarding). */
export type AppQueue = SyncEnqueue & Cancellable & Retryable & StatusReader & Prunable & Deletable & QueueControl & Pick<Source, "nextDueAt">;

export interface Services {
  db: Db;
  queue: AppQueue;
  pipeline: WriteHooks;
  tokens: TokenService;
  clock: Clock;
  logger: Logger;
  /** Where model-write and job events go; null when the app has no bus. */
  bus: EventBus | null;
  /** The store of each model, by model name ("Book") and by table ("books"). */
  model(nameOrTable: string): ModelRecords;
}

export type Position = "before" | "after";
export type WriteOperation = "create" | "update" | "delete";

/** What a hook receives (src/models/pipeline.ts runs hooks). */
export interface WriteEvent {
  model: string;
  operation: WriteOperation;
  /** Before create/update: the values about to be written (a hook may change them). After: the
   * record as stored. For delete: the record being deleted. */
  record: Record<string, unknown>;
  /** The record before an update or delete; null on create. */
  previous: Record<string, unknown> | null;
  auth: AuthUser | null;
  /** The W3C traceparent of the request that made the write, if any. */
  traceparent: string | null;
  services: Services;
}

export type Hook = (event: WriteEvent) => void;

export interface HookOptions {
  /** A model's name, or "*" for all. */
  model: string;
  /** Default "after". */
  position?: Position;
  /** Default: all three. */
  operations?: readonly WriteOperation[];
}

/** The write pipeline (implemented by Pipeline, src/models/pipeline.ts). */
export interface WriteHooks {
  /** Registers `hook` for a model at a position; returns its removal. */
  register(hook: Hook, options: HookOptions): () => void;
  /** Runs the matching hooks in registration order; a throw aborts the write (and rolls back). */
  run(position: Position, event: WriteEvent): void;
}

export type WireRecord = Record<string, unknown>;

export interface WriteContext {
  auth: AuthUser | null;
  services: Services;
  traceparent?: string | null;
}

/** What a non-admin caller may reach: its own rows of an owned model, and the model's visible rows. */
export interface Scope {
  ownerId?: string;
  /** The model's `visible` values. */
  visible?: Record<string, string | number>;
}

/** The records of one model (implemented by ModelStore, src/models/model-store.ts, which says more). */
export interface ModelRecords {
  readonly model: Model;
  get(id: string, scope?: Scope): WireRecord | null;
  list(query: ListQuery, scope?: Scope): { rows: WireRecord[]; total: number; keys: Scalar[][] };
  create(values: unknown, context: WriteContext): WireRecord;
  update(id: string, changes: unknown, context: WriteContext, scope?: Scope, mode?: "patch" | "replace"): WireRecord;
  updateIf(id: string, expected: WireRecord, changes: unknown, context: WriteContext): WireRecord | null;
  remove(id: string, context: WriteContext, scope?: Scope): void;
}
