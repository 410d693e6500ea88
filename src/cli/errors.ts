// One line for a failed command: our errors already say what to do; validation errors from
// the model layer list their fields (a detail that only repeats the message, as a bad job's or
// schedule's does, is left out).
import { CodedError } from "../errors.ts";

export function describeError(error: unknown): string {
  if (error instanceof CodedError) {
    const details = error.details.filter((d) => d.message !== error.message).map((d) => `${d.field}: ${d.message}`).join("; ");
    return details ? `${error.message} (${details})` : error.message;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE") return `already exists (${String((error as Error).message).replace(/^UNIQUE constraint failed: /, "")})`;
  return error instanceof Error ? error.message : String(error);
}
