// Typed errors that carry their own code and HTTP status (Hono's HTTPException is the model).
// Any layer throws them — a model store, a job's validation, the scheduler — and the API's one
// error handler (src/api/error-envelope.ts) turns any of them into `{"error": {code, message,
// details}}` without knowing which module threw it. A module's own error class extends
// CodedError. This file imports nothing, so every layer may import it.

export interface ErrorDetail {
  field: string;
  message: string;
}

export class CodedError extends Error {
  override name = "CodedError";
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

export const emptyBody = () => new CodedError(400, "EMPTY_BODY", "the request needs a JSON body");
export const invalidQuery = (message: string, field?: string) =>
  new CodedError(400, "INVALID_QUERY", message, field ? [{ field, message }] : []);
export const unauthorized = (message = "a valid bearer token is required") => new CodedError(401, "UNAUTHORIZED", message);
export const forbidden = (message = "your role does not allow this") => new CodedError(403, "FORBIDDEN", message);
export const notFound = (what = "resource") => new CodedError(404, "NOT_FOUND", `${what} not found`);
export const conflict = (message: string) => new CodedError(409, "CONFLICT", message);
export const validationError = (details: ErrorDetail[], message = "the request is not valid") =>
  new CodedError(422, "VALIDATION_ERROR", message, details);
