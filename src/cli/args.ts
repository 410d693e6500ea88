// A small flag parser for the binary: `--name value`, `--name=value`, boolean `--flag`, and
// repeatable flags; `--` ends the flags (what follows is positional, even `--help` or an id
// starting with dashes). Each flag may fall back to an environment variable, then to the config
// file's value (loaded by config.ts), then to a default (flags beat the environment, which beats
// the file, which beats defaults). Anything unknown is a usage error.

export { UsageError, type FlagSpec, type FlagValues } from "../runtime/settings.ts";
import { UsageError, type FlagSpec, type FlagValues } from "../runtime/settings.ts";

export function parseFlags(
  argv: readonly string[],
  spec: Record<string, FlagSpec>,
  env: Record<string, string | undefined> = process.env,
  config: Record<string, unknown> = {},
): { flags: FlagValues; positionals: string[] } {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag = spec[name];
    if (!flag) throw new UsageError(`unknown flag --${name}`);
    if (flag.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined || (inline === undefined && raw.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
    const value = convert(name, flag, raw);
    flags[name] = flag.type === "list" ? [...((flags[name] as string[] | undefined) ?? []), value as string] : value;
  }
  for (const [name, flag] of Object.entries(spec)) {
    if (flags[name] !== undefined) continue;
    const fromEnv = [flag.env ?? []].flat().map((key) => env[key]).find((v) => v !== undefined && v !== "");
    if (fromEnv !== undefined) flags[name] = flag.type === "boolean" ? /^(1|true|yes)$/i.test(fromEnv) : flag.type === "list" ? fromEnv.split(",") : convert(name, flag, fromEnv);
  }
  applyConfig(flags, spec, config, new Set(Object.keys(flags).filter((k) => flags[k] !== undefined)));
  for (const [name, flag] of Object.entries(spec)) {
    if (flags[name] === undefined && flag.default !== undefined) flags[name] = flag.default;
  }
  return { flags, positionals };
}

function convert(name: string, flag: FlagSpec, raw: string): string | number {
  if (flag.type === "number") {
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, not "${raw}"`);
    return Number(raw);
  }
  if (flag.choices) {
    const value = raw.toLowerCase();
    if (!flag.choices.includes(value)) throw new UsageError(`--${name} must be one of ${flag.choices.join(", ")}, not "${raw}"`);
    return value;
  }
  return raw;
}

/** Applies config-file values to flags still unset by the command line or the environment. */
export function applyConfig(flags: FlagValues, spec: Record<string, FlagSpec>, config: Record<string, unknown>, fromCommandLineOrEnv: Set<string>): void {
  for (const [name, value] of Object.entries(config)) {
    const flag = spec[name];
    if (!flag) throw new UsageError(`config file: unknown setting "${name}"`);
    if (fromCommandLineOrEnv.has(name)) continue;
    const expected = flag.type === "list" ? "object" : flag.type === "boolean" ? "boolean" : flag.type === "number" ? "number" : "string";
    if (typeof value !== expected) throw new UsageError(`config file: "${name}" must be a ${flag.type}`);
    if (flag.choices && !flag.choices.includes(String(value).toLowerCase())) throw new UsageError(`config file: "${name}" must be one of ${flag.choices.join(", ")}`);
    flags[name] = (flag.choices ? String(value).toLowerCase() : value) as FlagValues[string];
  }
}

/** The arguments before `--`: the only ones that may be flags. */
export function flagPart(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf("--");
  return end < 0 ? argv : argv.slice(0, end);
}

export function flagHelp(spec: Record<string, FlagSpec>): string {
  return Object.entries(spec)
    .map(([name, f]) => {
      const left = `  --${name}${f.type === "boolean" ? "" : ` ${f.choices ? f.choices.join("|") : f.type === "number" ? "N" : "VALUE"}`}`;
      const env = f.env ? ` [env ${[f.env].flat().join(", ")}]` : "";
      const def = f.default !== undefined && f.type !== "boolean" ? ` (default ${f.default})` : "";
      return `${left.padEnd(30)} ${f.help}${def}${env}`;
    })
    .join("\n");
}
