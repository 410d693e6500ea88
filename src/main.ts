#!/usr/bin/env bun
// Entry of the binary: pick the command, parse its flags, run it. Wiring only.
import { flagHelp, parseFlags, UsageError } from "./cli/args.ts";
import { serve, serveFlags } from "./cli/serve.ts";
import { userCommand, userFlags } from "./cli/users.ts";
import { describeError } from "./cli/errors.ts";
import packageJson from "../package.json" with { type: "json" };

const HELP = `backroom ${packageJson.version} — an embedded job-and-event runtime: one executable, one SQLite file

Usage:
  backroom [serve] [flags]                        run the REST API and the worker pool (default)
  backroom user add --name N --email E [--role R]  add a user; prints its API token once
  backroom user list                              list users
  backroom user token --email E                   issue another token for a user
  backroom --help | --version

serve flags:
${flagHelp(serveFlags)}

user flags:
${flagHelp(userFlags)}
`;

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) return void process.stdout.write(HELP);
  if (argv.includes("--version")) return void console.log(packageJson.version);
  const [command, ...rest] = argv[0] && !argv[0].startsWith("--") ? argv : ["serve", ...argv];
  if (command === "serve") {
    const { flags, positionals } = parseFlags(rest, serveFlags);
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return serve(flags);
  }
  if (command === "user") {
    const { flags, positionals } = parseFlags(rest, userFlags);
    return userCommand(positionals[0], flags);
  }
  throw new UsageError(`unknown command "${command}"`);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`backroom: ${describeError(error)}${error instanceof UsageError ? " (see backroom --help)" : ""}\n`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
