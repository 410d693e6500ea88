// What handlers, actions and hooks are given: the database, the queue, the model stores.
// Built once per app by createApp; nothing here is module-level state.
import type { Clock } from "../clock.ts";
import type { Db } from "../db/open.ts";
import type { Cancellable, Prunable, Retryable, Source, StatusReader } from "../jobs/queue.ts";
import type { SyncEnqueue } from "../jobs/sync-queue.ts";
import type { Logger } from "../log.ts";
import type { ModelStore } from "./model-store.ts";
import type { Pipeline } from "./pipeline.ts";
import type { TokenService } from "./auth.ts";
import type { EventBus } from "../events/bus.ts";

/** A queue whose enqueue is synchronous and joins the open transaction (SQLite, memory, forwarding). */
export type AppQueue = SyncEnqueue & Cancellable & Retryable & StatusReader & Prunable & Pick<Source, "nextDueAt">;

export interface Services {
  db: Db;
  queue: AppQueue;
  pipeline: Pipeline;
  tokens: TokenService;
  clock: Clock;
  logger: Logger;
  /** Where model-write and job events go; null when the app has no bus. */
  bus: EventBus | null;
  /** The store of each model, by model name ("Book") and by table ("books"). */
  model(nameOrTable: string): ModelStore;
}
