#!/usr/bin/env bun
// Entry of the binary: pick the command, parse its flags (command line, environment, config
// file, defaults — in that order), run it. Wiring only. A command's code (and Elysia, the
// adapters, nodemailer) is imported when that command runs, so --version and --help load
// nothing but this file and the flag table.
import packageJson from "../package.json" with { type: "json" };
import { flagHelp, flagPart, parseFlags, UsageError, type FlagSpec } from "./cli/args.ts";
import { loadConfigFile, printableConfig } from "./cli/config.ts";
import { describeError } from "./cli/errors.ts";
import { jobFlags, scheduleFlags, serveFlags, toolFlags, userFlags } from "./cli/flags.ts";

const configFlag: Record<string, FlagSpec> = { config: { type: "string", env: "BACKROOM_CONFIG", help: "a JSON file of settings (keys as the flags)" } };

interface Command {
  usage: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  run(positionals: string[], flags: Record<string, unknown>): Promise<void> | void;
}

const commands: Record<string, Command> = {
  serve: {
    usage: "backroom [serve] [flags]",
    summary: "run the REST API, the worker pool and the scheduler (the default command)",
    flags: { ...serveFlags, "print-config": { type: "boolean", help: "print the resolved settings (secrets masked) and exit" }, ...configFlag },
    run(positionals, flags) {
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (flags["print-config"]) return void console.log(JSON.stringify(printableConfig(flags as never), null, 2));
      return import("./cli/serve.ts").then(({ serve }) => serve(flags as never));
    },
  },
  migrate: { usage: "backroom migrate", summary: "bring the database schema up to this release and exit", flags: { ...toolFlags, ...configFlag }, run: async (_, f) => (await import("./cli/tools.ts")).migrateCommand(f as never) },
  user: { usage: "backroom user add --name N --email E [--role R] | list [--json] | token --email E", summary: "manage users; add and token print an API token once", flags: { ...userFlags, ...configFlag }, run: async (p, f) => (await import("./cli/users.ts")).userCommand(p[0], f as never) },
  jobs: { usage: "backroom jobs list [--status S] [--type T] [--json] | show <id> [--json] | retry <id> | cancel <id> | purge [--older-than-days N]  [--queue postgres://…]", summary: "inspect and act on jobs", flags: { ...jobFlags, ...configFlag }, run: async (p, f) => (await import("./cli/jobs.ts")).jobsCommand(p[0], p.slice(1), f as never) },
  schedules: { usage: "backroom schedules list [--json]", summary: "list schedules with their next and last fire times", flags: { ...scheduleFlags, ...configFlag }, run: async (p, f) => (await import("./cli/tools.ts")).schedulesCommand(p[0], f as never) },
  backup: { usage: "backroom backup <file>", summary: "write a consistent copy of the database (works while serving)", flags: { ...toolFlags, ...configFlag }, run: async (p, f) => (await import("./cli/tools.ts")).backupCommand(p[0], f as never) },
  doctor: {
    usage: "backroom doctor [--smtp URL]",
    summary: "check the database file, schema, WAL, disk space and SMTP",
    flags: { ...toolFlags, ...configFlag },
    async run(_, f) {
      const { doctorCommand } = await import("./cli/tools.ts");
      if (!(await doctorCommand(f as never))) process.exit(1);
    },
  },
};

function help(command?: string): string {
  if (command && commands[command]) {
    const c = commands[command];
    return `Usage: ${c.usage}\n\n${c.summary}\n\nFlags:\n${flagHelp(c.flags)}\n`;
  }
  const list = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`).join("\n");
  return `backroom ${packageJson.version} — an embedded job-and-event runtime: one executable, one SQLite file\n\nUsage: backroom <command> [flags]\n\nCommands:\n${list}\n\nbackroom <command> --help shows a command's flags. backroom --version prints the version.\n`;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--version") return void console.log(packageJson.version);
  const explicit = argv[0] !== undefined && !argv[0].startsWith("-");
  const name = explicit ? argv[0]! : "serve";
  const rest = explicit ? argv.slice(1) : argv;
  const flagArgs = flagPart(rest); // after `--`, nothing is a flag, not even --help
  if (name === "help" || (!explicit && (flagArgs.includes("--help") || flagArgs.includes("-h")))) return void process.stdout.write(help(explicit ? rest[0] : undefined));
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"`);
  if (flagArgs.includes("--help") || flagArgs.includes("-h")) return void process.stdout.write(help(name));
  const config = loadConfigFile(flagArgs, process.env);
  const { flags, positionals } = parseFlags(rest, command.flags, process.env, config.values);
  await command.run(positionals, flags);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`backroom: ${describeError(error)}${error instanceof UsageError ? " (see backroom --help)" : ""}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
