// Settings, as the command line, the environment and a config file give them: their declared
// shape (an app declares its own beside the runtime's) and the error for a wrong one. The
// parser is src/cli/args.ts; a program that starts a runtime itself passes values directly.

export class UsageError extends Error {
  override name = "UsageError";
}

export interface FlagSpec {
  type: "string" | "number" | "boolean" | "list";
  env?: string | string[];
  default?: string | number | boolean;
  help: string;
  /** Allowed values (strings, case-insensitive; the lower-case form is returned). */
  choices?: string[];
}

export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

/** How long finished work is kept (retention.ts deletes the rest every hour). */
export interface RetentionOptions {
  /** Succeeded and cancelled jobs are kept this many days (default 7). */
  keepJobsDays: number;
  /** Dead jobs are kept longer, for inspection (default 30). */
  keepDeadDays: number;
  /** Idempotency keys are kept this many hours (default 48). */
  keepIdempotencyHours: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { keepJobsDays: 7, keepDeadDays: 30, keepIdempotencyHours: 48 };
