// The public face of Backroom: what an app built on it imports (package.json "exports": ".").
// Test helpers are in "backroom/testing"; each optional adapter has its own entry
// ("backroom/postgres", "backroom/redis", "backroom/nats", "backroom/rabbitmq") so that its
// client library loads only when used. Nothing else under src/ is public.

// ── Your app: define it, run its command line, or start it yourself ─────────────────────
export { defineApp, migrationsOf, type AppDefinition, type JobDefinition, type JobHandlers, type RuntimeContext } from "./runtime/define.ts";
export { runCli, type CliApp } from "./cli/run.ts";
export { startServer, type RunningServer, type ServerSettings } from "./runtime/server.ts";
export { buildApp, type AppType, type BuildOptions, type BuiltApp } from "./runtime/build.ts";
export { createMailer, type Mailer, type MailerOptions, type MailMessage, type SentMail } from "./runtime/mailer.ts";
export { UsageError, DEFAULT_RETENTION, type FlagSpec, type FlagValues, type RetentionOptions } from "./runtime/settings.ts";

// ── Models, actions and the services they get ───────────────────────────────────────────
export { Type as t, type Static, type TSchema } from "@sinclair/typebox";
export { defineModel, type Access, type Model, type ModelDefinition, type ModelMigration, type Operation } from "./models/model.ts";
export { defineAction, type Action, type ActionContext, type ActionResult } from "./models/action.ts";
export { once, type StoredAnswer } from "./models/idempotency.ts";
export type { AppQueue, Hook, HookOptions, ModelRecords, Scope, Services, WireRecord, WriteContext, WriteEvent, WriteHooks } from "./models/services.ts";
export type { AuthUser } from "./models/users.ts";
export type { WebhookOptions } from "./models/webhooks.ts";
export { CodedError, conflict, forbidden, invalidQuery, notFound, unauthorized, validationError, type ErrorDetail } from "./errors.ts";

// ── Jobs ────────────────────────────────────────────────────────────────────────────────
export * from "./jobs/index.ts";
export { MAX_REQUEUES, UNHANDLED_REQUEUE_DELAY_MS, type ClaimOptions } from "./jobs/queue.ts";

// ── Events ──────────────────────────────────────────────────────────────────────────────
export type { EventBus, EventHandler } from "./events/bus.ts";
export { EventTooLargeError } from "./events/bus.ts";
export { createEvent, type Event, type EventMeta, type Visibility } from "./events/event.ts";
export { InProcessBus } from "./events/memory-bus.ts";
export { OutboxBus, type OutboxBusOptions, type RelayTarget } from "./events/outbox-bus.ts";
export { outboxMigrations } from "./events/outbox.ts";
export { jobEventSink, type JobEventData } from "./events/job-events.ts";
export { signWebhook, verifyWebhook, WebhookVerificationError, type SignedHeaders } from "./events/signature.ts";

// ── Schedules, the database, the HTTP app, time and logs ─────────────────────────────────
export * from "./cron/index.ts";
export * from "./db/index.ts";
export { createApp, type AppOf, type AppOptions, type BackroomApp } from "./api/app.ts";
export { systemClock, ManualClock, type Clock } from "./clock.ts";
export { jsonLogger, silentLogger, type Level, type Logger } from "./log.ts";
