// The reference store-terminal app the binary runs: books, orders, the place-order action and
// the receipt job, on the library's REST layer. Uses only what the library exports.
import { createApp } from "../api/app.ts";
import { appMigrations } from "../models/model-layer.ts";
import type { AppQueue } from "../models/services.ts";
import type { Db } from "../db/open.ts";
import packageJson from "../../package.json" with { type: "json" };
import { cronMigrations } from "../cron/store.ts";
import type { EventBus } from "../events/bus.ts";
import type { WebhookOptions } from "../models/webhooks.ts";
import type { OperationsOptions } from "../api/ops-routes.ts";
import type { Activity } from "../ops/activity.ts";
import type { Scheduler } from "../cron/scheduler.ts";
import { jobsMigrations } from "../jobs/sqlite.ts";
import type { Handler } from "../jobs/attempt.ts";
import type { Logger } from "../log.ts";
import { Book } from "./catalogue.ts";
import type { Mailer } from "./mailer.ts";
import { Order, placeOrder, RECEIPT_JOB } from "./orders.ts";
import { sendReceiptHandler } from "./receipt.ts";
import { DEFAULT_HOUSEKEEPING, housekeepingHandlers, storeSchedules, type HousekeepingOptions } from "./housekeeping.ts";

export const storeModels = [Book, Order];
export const storeMigrations = [...jobsMigrations, ...cronMigrations, ...appMigrations(storeModels)];

export interface StoreOptions {
  db: Db;
  queue: AppQueue;
  mailer: Mailer;
  logger?: Logger;
  bodyLimit?: number;
  /** The shipped binary requires a token to read job statuses. */
  anonymousJobStatuses?: boolean;
  /** When given, schedules are managed over REST (the caller declares `storeSchedules` on it). */
  scheduler?: Scheduler;
  housekeeping?: Partial<HousekeepingOptions>;
  bus?: EventBus;
  webhooks?: WebhookOptions;
  operations?: OperationsOptions;
  activity?: Activity;
}

export function createStoreApp(options: StoreOptions) {
  const built = createApp({
    db: options.db,
    queue: options.queue,
    models: storeModels,
    actions: [placeOrder as never],
    anonymousJobStatuses: options.anonymousJobStatuses ?? false,
    bodyLimit: options.bodyLimit,
    logger: options.logger,
    scheduler: options.scheduler,
    bus: options.bus,
    webhooks: options.webhooks,
    operations: options.operations,
    activity: options.activity,
    title: "Backroom store terminal",
    version: packageJson.version,
  });
  const handlers: Record<string, Handler> = {
    ...built.jobHandlers,
    [RECEIPT_JOB]: sendReceiptHandler(built.services, options.mailer),
    ...housekeepingHandlers(built.services, options.mailer, { ...DEFAULT_HOUSEKEEPING, ...options.housekeeping }),
  };
  return { ...built, handlers, schedules: storeSchedules };
}

/** The store app's REST surface as an Elysia type, for Eden's treaty client. */
export type { StoreApp } from "./api-types.ts";
