// `serve`: the app's REST API, worker pool and scheduler on one database file (src/runtime/
// server.ts), until SIGINT or SIGTERM — then stop accepting requests, drain the worker, close
// the file, exit 0.
import type { Level } from "../log.ts";
import type { AppDefinition } from "../runtime/define.ts";
import { startServer, type ServerSettings } from "../runtime/server.ts";
import type { FlagValues } from "./args.ts";
import { serveFlags } from "./flags.ts";

export async function serve(app: AppDefinition, flags: FlagValues): Promise<void> {
  const server = await startServer(app, settingsFrom(app, flags));
  if (server.firstAdmin) console.log(`Created the first admin user (${server.firstAdmin.email}). Its API token, shown only now:\n  ${server.firstAdmin.token}`);
  const { db, mail } = server.describe;
  console.log(`${title(app.name)} listening on ${server.url} (database ${db}, mail ${mail})`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.built.services.logger.log("info", "stopping", { signal });
    await server.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** The runtime's settings from the parsed flags; the app's own flags are passed on as they are. */
function settingsFrom(app: AppDefinition, flags: FlagValues): ServerSettings {
  const own = Object.keys(serveFlags(app));
  const appSettings = Object.fromEntries(Object.keys(app.settings ?? {}).filter((name) => !own.includes(name)).map((name) => [name, flags[name]]));
  return {
    db: flags.db as string,
    memory: flags.memory === true,
    host: flags.host as string,
    port: flags.port as number,
    concurrency: flags.concurrency as number,
    sandboxThreads: flags["sandbox-threads"] as number,
    sync: flags.sync as "full" | "normal",
    outbox: flags.outbox as string | undefined,
    smtp: (flags.smtp as string | undefined) ?? null,
    mailFrom: flags["mail-from"] as string,
    dev: flags.dev === true,
    logLevel: flags["log-level"] as Level,
    groupCommitMs: flags["group-commit-ms"] as number,
    groupCommitMax: flags["group-commit-max"] as number,
    keepJobsDays: flags["keep-jobs-days"] as number,
    keepDeadDays: flags["keep-dead-days"] as number,
    queue: flags.queue as string | undefined,
    node: flags.node as string | undefined,
    bus: flags.bus as string | undefined,
    graceMs: flags["grace-ms"] as number,
    app: appSettings,
  };
}

const title = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
