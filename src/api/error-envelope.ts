// The one place where anything thrown while handling a request becomes our error envelope:
// {"error": {"code", "message", "details": [{field, message}]}} with the right status.
// Internal errors are logged with their stack and answered without it.
import { ValidationError } from "elysia";
import { InvalidScheduleError } from "../cron/expression.ts";
import { ScheduleExistsError, ScheduleNotFoundError } from "../cron/scheduler.ts";
import { InvalidJobError } from "../jobs/new-job.ts";
import { InvalidPatternError } from "../events/pattern.ts";
import { errorMessage, type Logger } from "../log.ts";
import { ApiError, invalidJson, validationError, type ErrorDetail } from "./errors.ts";

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

export function toApiError(code: string | number | undefined, error: unknown, request: Request): ApiError | null {
  if (error instanceof ApiError) return error;
  // Elysia wraps whatever our body parser threw in a ParseError; the cause is ours.
  if (code === "PARSE" && (error as Error).cause instanceof ApiError) return (error as Error).cause as ApiError;
  if (error instanceof InvalidJobError) return validationError([{ field: error.field, message: error.message }], error.message);
  if (error instanceof InvalidScheduleError) return new ApiError(400, "INVALID_SCHEDULE", error.message, [{ field: error.field, message: error.message }]);
  if (error instanceof ScheduleNotFoundError) return new ApiError(404, "NOT_FOUND", error.message);
  if (error instanceof ScheduleExistsError) return new ApiError(409, "CONFLICT", error.message);
  if (error instanceof InvalidPatternError) return validationError([{ field: "pattern", message: error.message }], error.message);
  if (code === "PARSE") return invalidJson();
  if (code === "NOT_FOUND") return new ApiError(404, "NOT_FOUND", `no route for ${request.method} ${new URL(request.url).pathname}`);
  if (code === "VALIDATION" && error instanceof ValidationError) {
    return validationError(error.all.map((e) => ({ field: "path" in e ? String(e.path).replace(/^\//, "") : "", message: e.summary ?? e.message })));
  }
  const errorCode = (error as { code?: unknown } | null)?.code;
  // A shared queue or broker out of reach (--queue postgres://…): the till's fault neither, nor
  // the caller's. Say so, and that trying again later may work.
  if (typeof errorCode === "string" && /^ERR_(POSTGRES|REDIS)_CONNECTION_/.test(errorCode)) {
    return new ApiError(503, "UNAVAILABLE", `a server this request needs cannot be reached; try again later (${errorMessage(error)})`);
  }
  if (typeof errorCode === "string" && errorCode.startsWith("SQLITE_CONSTRAINT")) {
    if (errorCode === "SQLITE_CONSTRAINT_UNIQUE" || errorCode === "SQLITE_CONSTRAINT_PRIMARYKEY") {
      return new ApiError(409, "CONFLICT", `a record with these values already exists (${uniqueColumns(errorMessage(error))})`);
    }
    return validationError([], `the record breaks a database rule: ${errorMessage(error)}`);
  }
  return null;
}

/** The response body and status for any error; logs the ones that are our fault. */
export function errorResponse(code: string | number | undefined, error: unknown, request: Request, requestId: string, logger: Logger): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const apiError = toApiError(code, error, request);
  if (apiError) return { status: apiError.status, body: envelope(apiError), headers: apiError.headers };
  logger.log("error", "request failed", {
    request_id: requestId,
    method: request.method,
    path: new URL(request.url).pathname,
    error: errorMessage(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return { status: 500, body: envelope(new ApiError(500, "INTERNAL", `internal error (request id ${requestId})`)), headers: {} };
}

function envelope(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

function uniqueColumns(message: string): string {
  return /UNIQUE constraint failed: (.*)$/.exec(message)?.[1] ?? "unique constraint";
}
