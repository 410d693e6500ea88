// The command line of an app built on Backroom: `serve` (the default), `migrate`, `user`,
// `jobs`, `queues`, `schedules`, `backup`, `doctor`, `--help`, `--version`. Flags come from the command
// line, then the environment, then a config file, then defaults. A command's code (and Elysia,
// the adapters, nodemailer, the app's own modules when given as a loader) is imported only when
// that command runs, so --version and --help answer at once.
import type { AppDefinition } from "../runtime/define.ts";
import { flagHelp, flagPart, parseFlags, UsageError, type FlagSpec, type FlagValues } from "./args.ts";
import { loadConfigFile, printableConfig } from "./config.ts";
import { describeError } from "./errors.ts";
import { jobFlags, queueFlags, scheduleFlags, serveFlags, toolFlags, userFlags } from "./flags.ts";

/**
 * The app, or what --version and --help need of it and a loader for the rest: a binary whose
 * definition pulls in much code answers --version without loading it.
 */
export type CliApp = AppDefinition | { name: string; version: string; description?: string; load(): Promise<AppDefinition> };

interface Command {
  usage: string;
  summary: string;
  flags(app: AppDefinition): Record<string, FlagSpec>;
  run(app: AppDefinition, positionals: string[], flags: FlagValues): Promise<void> | void;
}

const configFlag: Record<string, FlagSpec> = { config: { type: "string", env: "BACKROOM_CONFIG", help: "a JSON file of settings (keys as the flags)" } };

const commands: Record<string, Command> = {
  serve: {
    usage: "[serve] [flags]",
    summary: "run the REST API, the worker pool and the scheduler (the default command)",
    flags: (app) => ({ ...serveFlags(app), ...app.settings, "print-config": { type: "boolean", help: "print the resolved settings (secrets masked) and exit" }, ...configFlag }),
    async run(app, positionals, flags) {
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (flags["print-config"]) return void console.log(JSON.stringify(printableConfig(flags), null, 2));
      await (await import("./serve.ts")).serve(app, flags);
    },
  },
  migrate: { usage: "migrate", summary: "bring the database schema up to this release and exit", flags: (app) => ({ ...toolFlags(app), ...configFlag }), run: async (app, _, f) => (await import("./tools.ts")).migrateCommand(app, f) },
  user: { usage: "user add --name N --email E [--role R] | list [--json] | token --email E", summary: "manage users; add and token print an API token once", flags: (app) => ({ ...userFlags(app), ...configFlag }), run: async (app, p, f) => (await import("./users.ts")).userCommand(app, p[0], f) },
  jobs: { usage: "jobs list [--status S] [--type T] [--json] | show <id> [--json] | retry <id> | cancel <id> | purge [--older-than-days N]  [--queue postgres://…]", summary: "inspect and act on jobs", flags: (app) => ({ ...jobFlags(app), ...configFlag }), run: async (app, p, f) => (await import("./jobs.ts")).jobsCommand(app, p[0], p.slice(1), f) },
  queues: { usage: "queues list [--json] | pause <name> | resume <name>  [--queue postgres://…]", summary: "list named queues (paused?, limits, jobs by status); pause or resume one", flags: (app) => ({ ...queueFlags(app), ...configFlag }), run: async (app, p, f) => (await import("./queues.ts")).queuesCommand(app, p[0], p.slice(1), f) },
  schedules: { usage: "schedules list [--json]", summary: "list schedules with their next and last fire times", flags: (app) => ({ ...scheduleFlags(app), ...configFlag }), run: async (app, p, f) => (await import("./tools.ts")).schedulesCommand(app, p[0], f) },
  backup: { usage: "backup <file>", summary: "write a consistent copy of the database (works while serving)", flags: (app) => ({ ...toolFlags(app), ...configFlag }), run: async (app, p, f) => (await import("./tools.ts")).backupCommand(app, p[0], f) },
  doctor: {
    usage: "doctor [--smtp URL]",
    summary: "check the database file, schema, WAL, disk space and SMTP",
    flags: (app) => ({ ...toolFlags(app), ...configFlag }),
    async run(app, _, f) {
      if (!(await (await import("./tools.ts")).doctorCommand(app, f))) process.exit(1);
    },
  },
};

function overview(app: CliApp): string {
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join("\n");
  const about = app.description ? ` — ${app.description}` : "";
  return `${app.name} ${app.version}${about}\n\nUsage: ${app.name} <command> [flags]\n\nCommands:\n${list}\n\n${app.name} <command> --help shows a command's flags. ${app.name} --version prints the version.\n`;
}

function commandHelp(app: AppDefinition, command: Command): string {
  return `Usage: ${app.name} ${command.usage}\n\n${command.summary}\n\nFlags:\n${flagHelp(command.flags(app))}\n`;
}

async function main(entry: CliApp, argv: string[]): Promise<void> {
  if (argv[0] === "--version") return void console.log(entry.version);
  const load = () => ("load" in entry ? entry.load() : Promise.resolve(entry));
  const explicit = argv[0] !== undefined && !argv[0].startsWith("-");
  const name = explicit ? argv[0]! : "serve";
  const rest = explicit ? argv.slice(1) : argv;
  const flagArgs = flagPart(rest); // after `--`, nothing is a flag, not even --help
  const asksHelp = flagArgs.includes("--help") || flagArgs.includes("-h");
  if (name === "help" && rest[0] && commands[rest[0]]) return void process.stdout.write(commandHelp(await load(), commands[rest[0]]!));
  if (name === "help" || (!explicit && asksHelp)) return void process.stdout.write(overview(entry));
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const app = await load();
  if (asksHelp) return void process.stdout.write(commandHelp(app, command));
  const config = loadConfigFile(flagArgs, process.env);
  const { flags, positionals } = parseFlags(rest, command.flags(app), process.env, config.values);
  await command.run(app, positionals, flags);
}

/** Runs the command line for `app` and exits non-zero on failure: 2 for a usage mistake, 1 otherwise. */
export async function runCli(app: CliApp, argv: string[] = process.argv.slice(2)): Promise<void> {
  try {
    await main(app, argv);
  } catch (error) {
    process.stderr.write(`${app.name}: ${describeError(error)}${error instanceof UsageError ? ` (see ${app.name} --help)` : ""}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
