// One line for a failed command: our errors already say what to do; validation errors from
// the model layer list their fields.
import { ApiError } from "../api/errors.ts";

export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.details.map((d) => `${d.field}: ${d.message}`).join("; ");
    return details ? `${error.message} (${details})` : error.message;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "SQLITE_CONSTRAINT_UNIQUE") return `already exists (${String((error as Error).message).replace(/^UNIQUE constraint failed: /, "")})`;
  return error instanceof Error ? error.message : String(error);
}
