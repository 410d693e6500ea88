// `backroom serve`: the REST API and the worker pool on one database file, until SIGINT or
// SIGTERM — then stop accepting requests, drain the worker, close the file, exit 0.
import { dirname, join } from "node:path";
import { openDatabase } from "../db/open.ts";
import { Worker } from "../jobs/worker.ts";
import { jsonLogger, type Level, type Logger } from "../log.ts";
import { createStoreApp, storeMigrations } from "../store/app.ts";
import { seedCatalogue } from "../store/catalogue.ts";
import { createMailer } from "../store/mailer.ts";
import { Scheduler } from "../cron/scheduler.ts";
import { DeferredBus } from "../events/deferred-bus.ts";
import { jobEventSink } from "../events/job-events.ts";
import { InProcessBus } from "../events/memory-bus.ts";
import type { EventBus } from "../events/bus.ts";
import { BackroomMetrics } from "../ops/backroom-metrics.ts";
import { Activity } from "../ops/activity.ts";
import { readinessChecks } from "../ops/readiness.ts";
import { UsageError, type FlagValues } from "./args.ts";
import { ensureDevUsers, ensureFirstAdmin } from "./bootstrap.ts";
import { openJobBackend } from "./job-backend.ts";


export async function serve(flags: FlagValues): Promise<void> {
  const logger = jsonLogger(flags["log-level"] as Level);
  const memory = flags.memory === true;
  const dbPath = memory ? ":memory:" : (flags.db as string);
  const db = openDatabase(dbPath, {
    synchronous: (flags.sync as string).toUpperCase() as "FULL" | "NORMAL",
    migrations: storeMigrations,
    groupCommit: { windowMs: flags["group-commit-ms"] as number, maxBatch: Math.max(1, flags["group-commit-max"] as number) },
  });
  const jobs = openJobBackend({ db, memory, url: flags.queue as string | undefined, node: flags.node as string | undefined, logger });
  const queue = jobs.queue;
  const outbox = (flags.outbox as string | undefined) ?? (memory ? "./outbox" : join(dirname(dbPath), "outbox"));
  const mailer = createMailer({ from: flags["mail-from"] as string, smtpUrl: (flags.smtp as string | undefined) ?? null, outbox });
  const scheduler = new Scheduler({ db, queue: jobs.local, logger });
  const bus = await openBus(flags.bus as string | undefined, logger);
  const metrics = new BackroomMetrics(db, jobs.gauges);
  const activity = new Activity();
  let worker: Worker | null = null;
  const store = createStoreApp({
    db, queue, mailer, logger, scheduler, bus, activity,
    operations: { metrics, checks: readinessChecks(db, storeMigrations, () => worker?.isRunning ?? false) },
    housekeeping: { reportTo: flags["report-to"] as string, keepJobsDays: flags["keep-jobs-days"] as number, keepDeadDays: flags["keep-dead-days"] as number },
  });
  scheduler.declare(store.schedules);

  // Bind before anything else starts, so a port already taken stops us with nothing to undo
  // but the open handles. Nothing can be answered before the worker starts: the seeding and
  // the first admin below are synchronous.
  try {
    store.app.listen({
      hostname: flags.host as string,
      port: flags.port as number,
      // Elysia turns reusePort on: a second server on the same port would then bind silently
      // and take a share of the requests, and their bearer tokens. A till owns its port.
      reusePort: false,
      // Well above our own limit, so an oversize body gets our 413 envelope (a declared length is
      // refused before the body is read); Bun itself cuts anything past this.
      maxRequestBodySize: store.bodyLimit * 8,
    });
  } catch (error) {
    await bus.close();
    await jobs.close();
    mailer.close();
    db.close();
    if ((error as { code?: string }).code === "EADDRINUSE") throw new Error(`port ${flags.port} on ${flags.host} is already in use (another Backroom or another program); stop it or choose another --port`);
    throw error;
  }

  const seeded = seedCatalogue(store.services);
  if (seeded > 0) logger.log("info", "seeded the demo catalogue", { books: seeded });
  if (flags.dev) logger.log("warn", "development users enabled (well-known tokens: see README)", { added: ensureDevUsers(store.services) });
  const admin = ensureFirstAdmin(store.services);
  if (admin) console.log(`Created the first admin user (${admin.email}). Its API token, shown only now:\n  ${admin.token}`);

  worker = new Worker({ source: jobs.source, handlers: store.handlers, concurrency: flags.concurrency as number, logger, status: [jobEventSink(bus), metrics.sink, activity.sink] }).start();
  scheduler.start();
  store.scheduledFields.start();
  const server = store.app.server!;
  const url = `http://${server.hostname}:${server.port}`;
  logger.log("info", "listening", { url, db: dbPath, queue: jobs.describe, outbox, smtp: flags.smtp ? "configured" : "off" });
  console.log(`Backroom listening on ${url} (database ${dbPath}, mail ${flags.smtp ? "via SMTP" : `to ${outbox}`})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log("info", "stopping", { signal });
    await server.stop();
    scheduler.stop();
    await store.scheduledFields.stop(); // its last batch commits and publishes before the bus and the file close
    await bus.close();
    await worker?.shutdown(flags["grace-ms"] as number);
    await jobs.close();
    mailer.close();
    db.close();
    logger.log("info", "stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function openBus(url: string | undefined, logger: Logger): Promise<EventBus> {
  if (!url || url === "memory" || url === "in-process") return new InProcessBus({ logger });
  // A till starts (and takes orders) even when the broker is out of reach: the bus opens when
  // it can (deferred-bus.ts). Redis connects on its first command anyway. Each adapter (and
  // its client library) is loaded only when chosen.
  if (url.startsWith("nats://")) {
    const { NatsBus } = await import("../events/nats.ts");
    return new DeferredBus(() => NatsBus.connect(url, { logger }), logger, "NATS");
  }
  if (url.startsWith("redis://") || url.startsWith("rediss://")) return new (await import("../events/redis.ts")).RedisStreamsBus(url, { logger });
  if (url.startsWith("amqp://") || url.startsWith("amqps://")) {
    const { RabbitMqBus } = await import("../events/rabbitmq.ts");
    return new DeferredBus(() => RabbitMqBus.connect(url, { logger }), logger, "RabbitMQ");
  }
  throw new UsageError(`--bus must be in-process, nats://…, redis://… or amqp://…, not "${url}"`);
}
