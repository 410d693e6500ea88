// The optional config file: JSON with the same keys as the flags ({"port": 8080, "smtp": "…"}).
// Precedence: flags, then environment variables, then this file, then defaults (parseFlags in
// args.ts applies the values this file loads).
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";
import { UsageError, type FlagValues } from "./args.ts";

export function loadConfigFile(argv: readonly string[], env: Record<string, string | undefined>): { path: string | null; values: Record<string, unknown> } {
  const i = argv.findIndex((a) => a === "--config" || a.startsWith("--config="));
  const path = i < 0 ? env.BACKROOM_CONFIG || null : argv[i]!.includes("=") ? argv[i]!.split("=", 2)[1]! : argv[i + 1];
  if (!path) return { path: null, values: {} };
  if (!fs.existsSync(path)) throw new UsageError(`config file ${path} does not exist`);
  let values: unknown;
  try {
    values = JSON.parse(fs.readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof values !== "object" || values === null || Array.isArray(values)) throw new UsageError(`config file ${path} must hold a JSON object`);
  return { path, values: values as Record<string, unknown> };
}

/** The resolved settings with secrets masked, for `serve --print-config`. */
export function printableConfig(flags: FlagValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(flags)) {
    if (name === "print-config" || name === "config") continue;
    out[name] = typeof value === "string" ? maskSecrets(value) : value;
  }
  return out;
}

const MASK = "***";
/** Query (or fragment) parameters that carry credentials: ?password=, ?token=, ?api_key=, ?auth=… */
const SECRET_PARAM = /pass|pwd|token|secret|key|auth|cred|sig|session|cookie/i;

/**
 * A URL with every credential masked: the password of the userinfo, a userinfo that is only a
 * user name (`nats://TOKEN@host` puts the token there), and secret-looking query parameters.
 * Parsed with URL (the last `@` ends the userinfo, as every client reads it), never by pattern;
 * a value that looks like a URL but does not parse is masked whole, since we cannot tell where
 * its secret is.
 */
export function maskSecrets(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return MASK;
  }
  if (url.password) url.password = MASK;
  else if (url.username) url.username = MASK;
  if (url.search) url.search = maskParams(url.search.slice(1));
  if (url.hash) url.hash = maskParams(url.hash.slice(1));
  return url.href;
}

function maskParams(text: string): string {
  return text
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      let name = pair.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {}
      return SECRET_PARAM.test(name) ? `${pair.slice(0, eq)}=${MASK}` : pair;
    })
    .join("&");
}
