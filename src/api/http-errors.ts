// The errors only HTTP can raise: a body that is not JSON, too large or of the wrong type, a
// method a path does not allow. Errors any layer may throw (not found, conflict, validation…)
// are in src/errors.ts; both are CodedErrors, answered by src/api/error-envelope.ts.
import { CodedError } from "../errors.ts";

export const invalidJson = (message = "the request body is not valid JSON") => new CodedError(400, "INVALID_JSON", message);
export const methodNotAllowed = (method: string, path: string) =>
  new CodedError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}`);
/** The seeds' own code for a write to job statuses: they are written by the queue only. */
export const jobStatusReadonly = (method: string, path: string) =>
  new CodedError(405, "JOB_STATUS_READONLY", `${method} is not allowed on ${path}: job statuses are read-only`, [], { allow: "GET" });
export const bodyTooLarge = (limit: number) => new CodedError(413, "BODY_TOO_LARGE", `the request body is larger than ${limit} bytes`);
export const unsupportedMediaType = (type: string) =>
  new CodedError(415, "UNSUPPORTED_MEDIA_TYPE", `send JSON with Content-Type: application/json (got "${type}")`);
