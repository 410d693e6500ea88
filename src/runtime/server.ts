// A running app: the database file (or memory), the job queue (the file's own, or PostgreSQL
// fed from it), the event bus, the mailer, the HTTP server, the worker pool, the scheduler and
// the scheduled fields, opened from settings and closed in the right order by stop(). This is
// what `backroom serve` runs; a program can start one itself.
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import path from "node:path";
import type { AnyElysia } from "elysia";
import { listenOnce } from "../api/listen.ts";
import { Scheduler } from "../cron/scheduler.ts";
import { openDatabase, type Db } from "../db/open.ts";
import type { EventBus } from "../events/bus.ts";
import { DeferredBus } from "../events/deferred-bus.ts";
import { jobEventSink } from "../events/job-events.ts";
import { InProcessBus } from "../events/memory-bus.ts";
import { OutboxBus, type RelayTarget } from "../events/outbox-bus.ts";
import type { OutboxStore } from "../events/outbox-store.ts";
import { SandboxPool } from "../jobs/sandbox-pool.ts";
import { Worker } from "../jobs/worker.ts";
import { jsonLogger, type Level, type Logger } from "../log.ts";
import { Activity } from "../ops/activity.ts";
import { BackroomMetrics } from "../ops/backroom-metrics.ts";
import { readinessChecks } from "../ops/readiness.ts";
import { ensureDevUsers, ensureFirstAdmin } from "./bootstrap.ts";
import { buildApp, typeDefaultingEnqueue, type BuiltApp } from "./build.ts";
import { migrationsOf, type AppDefinition } from "./define.ts";
import { openJobBackend } from "./job-backend.ts";
import { createMailer } from "./mailer.ts";
import { DEFAULT_RETENTION } from "./settings.ts";
import { UsageError, type FlagValues } from "./settings.ts";

export interface ServerSettings {
  /** Database file. Default ./<app name>.db. */
  db?: string;
  /** Keep jobs and data in memory only. */
  memory?: boolean;
  host?: string;
  /** 0: any free port. Default 8080. */
  port?: number;
  /** Jobs run at once. Default: the number of CPUs. */
  concurrency?: number;
  /** Threads of the pool that runs sandboxed job types (started only if the app has one). Default: CPUs − 1, at least 1. */
  sandboxThreads?: number;
  /** "full" survives a power cut (default); "normal" is faster. */
  sync?: "full" | "normal";
  /** Folder for outgoing mail. Default: outbox/ next to the database. */
  outbox?: string;
  /** Send mail through this server (smtp://user:pass@host:port) instead of the outbox. */
  smtp?: string | null;
  mailFrom?: string;
  /** Add development users with well-known tokens (never in production). */
  dev?: boolean;
  logLevel?: Level;
  groupCommitMs?: number;
  groupCommitMax?: number;
  keepJobsDays?: number;
  keepDeadDays?: number;
  /** "sqlite" (default) or postgres://… (jobs forwarded from the file to a shared queue). */
  queue?: string;
  /** With a PostgreSQL queue: this node's partition. Default: the host name. */
  node?: string;
  /** In-process (default), nats://…, redis://…, amqp://… or kafka://host:port,…. */
  bus?: string;
  /** How long stop() waits for running jobs. Default 10 s. */
  graceMs?: number;
  /** The app's own settings (AppDefinition.settings); missing ones take their defaults. */
  app?: FlagValues;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  /** Where the database is, where jobs and mail go: for a start-up line. */
  describe: { db: string; queue: string; mail: string };
  /** The first admin, created on a database without users: its token is shown only now. */
  firstAdmin: { email: string; token: string } | null;
  built: BuiltApp;
  /** Stops accepting requests, lets running jobs finish (graceMs), closes everything. */
  stop(): Promise<void>;
}

export async function startServer(definition: AppDefinition, settings: ServerSettings = {}): Promise<RunningServer> {
  const logger = settings.logger ?? jsonLogger(settings.logLevel ?? "info");
  const memory = settings.memory === true;
  const dbPath = memory ? ":memory:" : (settings.db ?? `./${definition.name}.db`);
  const migrations = migrationsOf(definition);
  const db = openDatabase(dbPath, {
    synchronous: (settings.sync ?? "full").toUpperCase() as "FULL" | "NORMAL",
    migrations,
    groupCommit: { windowMs: settings.groupCommitMs ?? 0, maxBatch: Math.max(1, settings.groupCommitMax ?? 64) },
  });
  const jobs = await openJobBackend({ db, memory, url: settings.queue, node: settings.node, logger });
  const outbox = settings.outbox ?? (memory ? "./outbox" : path.join(path.dirname(dbPath), "outbox"));
  const mailer = createMailer({ from: settings.mailFrom ?? definition.mailFrom ?? `${definition.name} <noreply@localhost>`, smtpUrl: settings.smtp ?? null, outbox });
  let built: BuiltApp | null = null;
  // Scheduled jobs get their type's defaults too; the definitions are known once built.
  const scheduler = new Scheduler({ db, queue: typeDefaultingEnqueue(jobs.local, () => built?.jobs ?? {}), logger });
  const { bus, jobEvents } = await openBus(settings.bus, db, logger, jobs.jobEventOutbox);
  const metrics = new BackroomMetrics(db, jobs.gauges);
  const activity = new Activity();
  let worker: Worker | null = null;
  const app = buildApp(definition, {
    db, queue: jobs.queue, mailer, logger, scheduler, bus, activity,
    anonymousJobStatuses: false,
    settings: settings.app,
    operations: { metrics, checks: readinessChecks(db, migrations, () => worker?.isRunning ?? false) },
    retention: { keepJobsDays: settings.keepJobsDays ?? DEFAULT_RETENTION.keepJobsDays, keepDeadDays: settings.keepDeadDays ?? DEFAULT_RETENTION.keepDeadDays },
  });
  built = app;
  scheduler.declare(app.schedules);
  metrics.watchQueues(() => jobs.queue.queueStates(), definition.queues ?? {});

  const closeOpened = async () => {
    if (jobEvents !== bus) await jobEvents.close();
    await bus.close();
    await jobs.close();
    mailer.close();
    db.close();
  };
  // Sandboxed job types: every thread loads every module now, so a wrong path or export stops
  // the start here rather than failing the first job.
  let sandbox: SandboxPool | null = null;
  if (Object.keys(app.sandboxes).length > 0) {
    try {
      sandbox = await SandboxPool.open({ types: app.sandboxes, size: settings.sandboxThreads, dbPath: memory ? null : dbPath, logger });
    } catch (error) {
      await closeOpened();
      throw error;
    }
  }

  // Bind before anything else starts, so a port already taken stops us with nothing to undo
  // but the open handles. Nothing can be answered before the worker starts: the seeding and
  // the first admin below are synchronous.
  const host = settings.host ?? "127.0.0.1";
  const port = settings.port ?? 8080;
  try {
    listenOnce(app.app as unknown as AnyElysia, {
      hostname: host,
      port,
      // Elysia turns reusePort on: a second server on the same port would then bind silently
      // and take a share of the requests, and their bearer tokens. A till owns its port.
      reusePort: false,
      // Well above our own limit, so an oversize body gets our 413 envelope (a declared length is
      // refused before the body is read); Bun itself cuts anything past this.
      maxRequestBodySize: app.bodyLimit * 8,
    });
  } catch (error) {
    await sandbox?.close();
    await closeOpened();
    if ((error as { code?: string }).code === "EADDRINUSE") throw new Error(`port ${port} on ${host} is already in use (another Backroom or another program); stop it or choose another --port`);
    throw error;
  }

  app.seed();
  if (settings.dev) logger.log("warn", "development users enabled (well-known tokens: see README)", { added: ensureDevUsers(app.services) });
  const firstAdmin = ensureFirstAdmin(app.services);

  // A pause declared in code is a first state: one stored at run time (or at an earlier start) wins.
  for (const [name, queue] of Object.entries(definition.queues ?? {})) {
    if (queue.paused !== undefined) await jobs.queue.setQueuePaused(name, queue.paused, true);
  }
  const handlers = sandbox ? { ...app.handlers, ...sandbox.handlers() } : app.handlers;
  worker = new Worker({ source: jobs.source, handlers, concurrency: settings.concurrency, logger, status: [jobEventSink(jobEvents), metrics.sink, activity.sink], queues: definition.queues }).start();
  scheduler.start();
  app.scheduledFields.start();
  const server = app.app.server!;
  const url = `http://${server.hostname}:${server.port}`;
  const mail = settings.smtp ? "via SMTP" : `to ${outbox}`;
  logger.log("info", "listening", { url, db: dbPath, queue: jobs.describe, outbox, smtp: settings.smtp ? "configured" : "off" });
  // A compiled binary starts with a reluctant JIT, for the run-once code of a start
  // (scripts/compile.ts); from here on the code that runs is the code that serves.
  Bun.unsafe.setJITPolicy(1);

  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await server.stop();
      scheduler.stop();
      await app.scheduledFields.stop(); // its last batch commits and publishes before the bus and the file close
      if (jobEvents !== bus) await jobEvents.close(); // its relay only: the network bus is the app's to close
      await bus.close();
      await worker?.shutdown(settings.graceMs ?? 10_000); // aborts what is still running: sandbox threads are terminated, their jobs put back
      await sandbox?.close();
      await jobs.close();
      mailer.close();
      db.close();
      logger.log("info", "stopped");
    })());
  return { url, describe: { db: dbPath, queue: jobs.describe, mail }, firstAdmin, built: app, stop };
}

/** The app's bus, and the one the worker's job events go to (the same one, but on a network bus with a PostgreSQL queue). */
async function openBus(url: string | undefined, db: Db, logger: Logger, jobEventOutbox: OutboxStore | undefined): Promise<{ bus: EventBus; jobEvents: EventBus }> {
  if (!url || url === "memory" || url === "in-process") {
    const bus = new InProcessBus({ logger });
    return { bus, jobEvents: bus };
  }
  const network = await openNetworkBus(url, logger);
  // Every network bus publishes from a durable outbox: events are written with the writes that
  // caused them and survive the broker being away, a restart, a kill -9 (outbox-bus.ts). The
  // app's go to the database file's; job events on a PostgreSQL queue to PostgreSQL's, in the
  // settle's transaction (postgres-outbox.ts), relayed to the same broker. The in-process bus
  // needs none: its subscribers live and die with it.
  const bus = new OutboxBus(db, network.bus, { logger, engine: network.engine });
  if (!jobEventOutbox) return { bus, jobEvents: bus };
  return { bus, jobEvents: new OutboxBus(jobEventOutbox, network.bus, { logger, engine: network.engine, keepInnerOpen: true }) };
}

async function openNetworkBus(url: string, logger: Logger): Promise<{ bus: RelayTarget; engine: string }> {
  // A till starts (and takes orders) even when the broker is out of reach: the bus opens when
  // it can (deferred-bus.ts). Redis connects on its first command anyway. Each adapter (and
  // its client library) is loaded only when chosen.
  if (url.startsWith("nats://")) {
    const { NatsBus } = await import("../events/nats.ts");
    return { bus: new DeferredBus(() => NatsBus.connect(url, { logger }), logger, "NATS"), engine: "NATS" };
  }
  if (url.startsWith("redis://") || url.startsWith("rediss://")) return { bus: new (await import("../events/redis.ts")).RedisStreamsBus(url, { logger }), engine: "Redis" };
  if (url.startsWith("amqp://") || url.startsWith("amqps://")) {
    const { RabbitMqBus } = await import("../events/rabbitmq.ts");
    return { bus: new DeferredBus(() => RabbitMqBus.connect(url, { logger }), logger, "RabbitMQ"), engine: "RabbitMQ" };
  }
  if (url.startsWith("kafka://")) {
    const { KafkaBus } = await import("../events/kafka.ts");
    return { bus: new DeferredBus(() => KafkaBus.connect(url, { logger }), logger, "Kafka"), engine: "Kafka" };
  }
  throw new UsageError(`--bus must be in-process, nats://…, redis://…, amqp://… or kafka://…, not "${url}"`);
}
