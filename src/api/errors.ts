// The typed errors of the REST layer. Throw one anywhere (a handler, a hook, a model store);
// src/api/error-envelope.ts turns it into `{"error": {code, message, details}}` in exactly one place.

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
    /** Headers the answer carries (`Allow` on a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const invalidJson = (message = "the request body is not valid JSON") => new ApiError(400, "INVALID_JSON", message);
export const emptyBody = () => new ApiError(400, "EMPTY_BODY", "the request needs a JSON body");
export const invalidQuery = (message: string, field?: string) =>
  new ApiError(400, "INVALID_QUERY", message, field ? [{ field, message }] : []);
export const unauthorized = (message = "a valid bearer token is required") => new ApiError(401, "UNAUTHORIZED", message);
export const forbidden = (message = "your role does not allow this") => new ApiError(403, "FORBIDDEN", message);
export const notFound = (what = "resource") => new ApiError(404, "NOT_FOUND", `${what} not found`);
export const methodNotAllowed = (method: string, path: string) =>
  new ApiError(405, "METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}`);
/** The seeds' own code for a write to job statuses: they are written by the queue only. */
export const jobStatusReadonly = (method: string, path: string) =>
  new ApiError(405, "JOB_STATUS_READONLY", `${method} is not allowed on ${path}: job statuses are read-only`, [], { allow: "GET" });
export const conflict = (message: string) => new ApiError(409, "CONFLICT", message);
export const bodyTooLarge = (limit: number) => new ApiError(413, "BODY_TOO_LARGE", `the request body is larger than ${limit} bytes`);
export const unsupportedMediaType = (type: string) =>
  new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", `send JSON with Content-Type: application/json (got "${type}")`);
export const validationError = (details: ErrorDetail[], message = "the request is not valid") =>
  new ApiError(422, "VALIDATION_ERROR", message, details);
