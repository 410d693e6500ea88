// Every command's flags, as data: what --help prints and the parser reads. Kept apart from the
// commands themselves so that --help and --version load nothing else (the commands, Elysia and
// the adapters load only when a command runs: run.ts). The runtime's settings keep the
// BACKROOM_ environment names whatever the app is called; only the defaults name the app.
import { JOB_STATUSES } from "../jobs/types.ts";
import { DEFAULT_RETENTION } from "../runtime/settings.ts";
import type { FlagSpec } from "./args.ts";

/** What the flags need to know of the app. */
export interface FlagDefaults {
  name: string;
  mailFrom?: string;
}

const dbFlag = (app: FlagDefaults): FlagSpec => ({ type: "string", env: "BACKROOM_DB", default: `./${app.name}.db`, help: "database file" });

export const serveFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  db: dbFlag(app),
  memory: { type: "boolean", env: "BACKROOM_MEMORY", help: "keep jobs and data in memory only (nothing survives)" },
  host: { type: "string", env: "BACKROOM_HOST", default: "127.0.0.1", help: "address to listen on" },
  port: { type: "number", env: ["BACKROOM_PORT", "PORT"], default: 8080, help: "port to listen on (0: any free port)" },
  concurrency: { type: "number", env: "BACKROOM_CONCURRENCY", default: navigator.hardwareConcurrency, help: "jobs run at once" },
  "sandbox-threads": { type: "number", env: "BACKROOM_SANDBOX_THREADS", default: Math.max(1, navigator.hardwareConcurrency - 1), help: "threads that run sandboxed job types (only if the app has one)" },
  sync: { type: "string", env: "BACKROOM_SYNC", default: "full", choices: ["full", "normal"], help: "full survives a power cut; normal is faster" },
  outbox: { type: "string", env: "BACKROOM_OUTBOX", help: "folder for outgoing mail (default: outbox/ next to the database)" },
  smtp: { type: "string", env: "SMTP_URL", help: "send mail through this server (smtp://user:pass@host:port)" },
  "mail-from": { type: "string", env: "BACKROOM_MAIL_FROM", default: app.mailFrom ?? `${app.name} <noreply@localhost>`, help: "sender of the app's mail" },
  dev: { type: "boolean", env: "BACKROOM_DEV", help: "add development users with well-known tokens (never in production)" },
  "log-level": { type: "string", env: "BACKROOM_LOG_LEVEL", default: "info", choices: ["debug", "info", "warn", "error"], help: "least important log level shown" },
  "group-commit-ms": { type: "number", env: "BACKROOM_GROUP_COMMIT_MS", default: 0, help: "wait this long for more writes to share a commit (0: one event-loop turn)" },
  "group-commit-max": { type: "number", env: "BACKROOM_GROUP_COMMIT_MAX", default: 64, help: "commit once this many writes are waiting (1: group commit off)" },
  "keep-jobs-days": { type: "number", env: "BACKROOM_KEEP_JOBS_DAYS", default: DEFAULT_RETENTION.keepJobsDays, help: "days succeeded and cancelled jobs are kept" },
  "keep-dead-days": { type: "number", env: "BACKROOM_KEEP_DEAD_DAYS", default: DEFAULT_RETENTION.keepDeadDays, help: "days dead jobs are kept" },
  queue: { type: "string", env: "BACKROOM_QUEUE", help: "job queue: sqlite (the database file, default), or postgres://… (jobs forwarded from the file to a shared PostgreSQL queue)" },
  node: { type: "string", env: "BACKROOM_NODE", help: "with --queue postgres://…: this till's partition, whose jobs only it runs (default: the host name)" },
  bus: { type: "string", env: "BACKROOM_BUS", help: "event bus: in-process (default), or nats://…, redis://… (Streams), amqp://… or kafka://host:port,… to share events across processes (kept in a durable outbox in the database file while the broker is away)" },
  "grace-ms": { type: "number", env: "BACKROOM_GRACE_MS", default: 10_000, help: "how long shutdown waits for running jobs" },
});

export const toolFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  db: dbFlag(app),
  smtp: { type: "string", env: "SMTP_URL", help: "doctor: also check this SMTP server is reachable" },
});

export const scheduleFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  ...toolFlags(app),
  json: { type: "boolean", help: "print JSON as the REST API does (snake_case, ISO times)" },
});

export const jobFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  db: dbFlag(app),
  queue: { type: "string", env: "BACKROOM_QUEUE", help: "act on a shared PostgreSQL queue (postgres://…) instead of the file: every till's jobs, while the tills run" },
  node: { type: "string", env: "BACKROOM_NODE", help: "with --queue postgres://…: the partition purge prunes (default: the one of jobs enqueued without a partition)" },
  status: { type: "string", choices: [...JOB_STATUSES], help: "list: only jobs in this state" },
  type: { type: "string", help: "list: only jobs of this type" },
  limit: { type: "number", default: 20, help: "list: how many (newest first)" },
  "older-than-days": { type: "number", default: 7, help: "purge: finished before this many days ago" },
  json: { type: "boolean", help: "list, show: print JSON as the REST API does (snake_case, ISO times)" },
});

export const queueFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  db: dbFlag(app),
  queue: { type: "string", env: "BACKROOM_QUEUE", help: "act on a shared PostgreSQL queue (postgres://…) instead of the file: a pause there holds for every till" },
  json: { type: "boolean", help: "list: print JSON as GET /api/queues does" },
});

export const userFlags = (app: FlagDefaults): Record<string, FlagSpec> => ({
  db: dbFlag(app),
  name: { type: "string", help: "user name (add)" },
  email: { type: "string", help: "e-mail address (add, token)" },
  role: { type: "list", help: "a role, repeatable (add): e.g. --role admin" },
  json: { type: "boolean", help: "list: print JSON as the REST API does" },
});
