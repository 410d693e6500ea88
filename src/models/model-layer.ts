// The model layer of one app, built from its options: the schema migrated, a store for each
// model (the built-in users and webhook subscriptions too), the write pipeline, tokens, model
// events published after commit, webhook deliveries, and the runner of scheduled fields.
// No HTTP: src/api/app.ts serves what this builds. Nothing is module-level state.
import { systemClock, type Clock } from "../clock.ts";
import { migrate, type Migration } from "../db/migrations.ts";
import type { Db } from "../db/open.ts";
import type { EventBus } from "../events/bus.ts";
import type { Handler } from "../jobs/attempt.ts";
import { jsonLogger, type Logger } from "../log.ts";
import { idempotencyMigrations } from "./idempotency.ts";
import type { Model } from "./model.ts";
import { emitModelEvents } from "./model-events.ts";
import { ModelStore } from "./model-store.ts";
import { Pipeline } from "./pipeline.ts";
import { ScheduledFields } from "./scheduled-runner.ts";
import type { AppQueue, Services } from "./services.ts";
import { TokenService } from "./tokens.ts";
import { usersModel } from "./users.ts";
import { WEBHOOK_JOB, Webhooks, WebhookSubscription, type WebhookOptions } from "./webhooks.ts";

export interface ModelLayerOptions {
  db: Db;
  queue: AppQueue;
  models?: Model[];
  pipeline?: Pipeline;
  /** Model-write events go here (after commit). */
  bus?: EventBus;
  /** Webhook subscriptions (a model, plus these in code); false: no webhooks. */
  webhooks?: WebhookOptions | false;
  logger?: Logger;
  clock?: Clock;
}

export interface ModelLayer {
  services: Services;
  /** The app's models after the built-in ones (users, webhook subscriptions). */
  models: Model[];
  /** Job handlers the layer's features need (webhook delivery): give them to the worker. */
  jobHandlers: Record<string, Handler>;
  /** Applies the models' scheduled transitions: start it beside the worker, stop it before closing the db. */
  scheduledFields: ScheduledFields;
}

/** The migrations an app needs: its models', the built-in users' and webhook subscriptions', idempotency keys. */
export function appMigrations(models: readonly Model[]): Migration[] {
  return [...builtInModels(models).flatMap((m) => m.migrations), ...idempotencyMigrations];
}

function builtInModels(models: readonly Model[]): Model[] {
  return [usersModel, WebhookSubscription, ...models];
}

export function createModelLayer(options: ModelLayerOptions): ModelLayer {
  const models = builtInModels(options.models ?? []);
  migrate(options.db.sqlite, options.db.path, appMigrations(options.models ?? []));
  const stores = new Map<string, ModelStore>();
  const services: Services = {
    db: options.db,
    queue: options.queue,
    pipeline: options.pipeline ?? new Pipeline(),
    tokens: new TokenService(options.db),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? jsonLogger(),
    bus: options.bus ?? null,
    model(nameOrTable) {
      const store = stores.get(nameOrTable);
      if (!store) throw new Error(`no model named ${nameOrTable}`);
      return store;
    },
  };
  // A change to any user (roles, deletion) must reach the next request at once.
  services.pipeline.register(() => services.tokens.forget(), { model: usersModel.name, position: "after" });
  for (const model of models) {
    const store = new ModelStore(model, () => services);
    stores.set(model.name, store);
    stores.set(model.table, store);
  }

  const webhooks = options.webhooks === false ? null : new Webhooks(() => services, options.webhooks ?? {});
  webhooks?.register(services.pipeline);
  // Subscriptions hold secrets: their own writes are never events.
  const emitting = models.filter((m) => m !== WebhookSubscription);
  emitModelEvents(services.pipeline, emitting, { bus: options.bus, onEvent: (event, write) => webhooks?.enqueueFor(event, write.traceparent) });

  const scheduledFields = new ScheduledFields({ services, models });
  return { services, models, jobHandlers: webhooks ? { [WEBHOOK_JOB]: webhooks.handler() } : {}, scheduledFields };
}
