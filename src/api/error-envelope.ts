// The one place where anything thrown while handling a request becomes our error envelope:
// {"error": {"code", "message", "details": [{field, message}]}} with the right status.
// Internal errors are logged with their stack and answered without it.
//
// It knows no module's error classes: whatever carries its own code and status (a CodedError,
// src/errors.ts — a model's 404, a job's or a schedule's bad input) is answered as it says.
// Mapped here are only what others throw and cannot label: Elysia's parse, routing and
// validation failures, the engines' unreachable connections and SQLite's constraint failures.
import { ValidationError } from "elysia";
import { errorMessage, type Logger } from "../log.ts";
import { CodedError, validationError, type ErrorDetail } from "../errors.ts";
import { invalidJson } from "./http-errors.ts";

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

export function toCodedError(code: string | number | undefined, error: unknown, request: Request): CodedError | null {
  if (error instanceof CodedError) return error;
  // Elysia wraps whatever our body parser threw in a ParseError; the cause is ours.
  if (code === "PARSE" && (error as Error).cause instanceof CodedError) return (error as Error).cause as CodedError;
  if (code === "PARSE") return invalidJson();
  if (code === "NOT_FOUND") return new CodedError(404, "NOT_FOUND", `no route for ${request.method} ${new URL(request.url).pathname}`);
  if (code === "VALIDATION" && error instanceof ValidationError) {
    return validationError(error.all.map((e) => ({ field: "path" in e ? String(e.path).replace(/^\//, "") : "", message: e.summary ?? e.message })));
  }
  const errorCode = (error as { code?: unknown } | null)?.code;
  // A shared queue or broker out of reach (--queue postgres://…): the till's fault neither, nor
  // the caller's. Say so, and that trying again later may work.
  if (typeof errorCode === "string" && /^ERR_(POSTGRES|REDIS)_CONNECTION_/.test(errorCode)) {
    return new CodedError(503, "UNAVAILABLE", `a server this request needs cannot be reached; try again later (${errorMessage(error)})`);
  }
  // The disk (or the file's page limit) is full: nothing was written, and it is the operator's
  // to fix, not the caller's. 507 says so; the worker keeps its outcomes until there is room.
  if (errorCode === "SQLITE_FULL" || /database or disk is full/.test(errorMessage(error))) {
    return new CodedError(507, "STORAGE_FULL", "the database's disk is full: nothing was written; free some space and try again");
  }
  if (typeof errorCode === "string" && errorCode.startsWith("SQLITE_CONSTRAINT")) {
    if (errorCode === "SQLITE_CONSTRAINT_UNIQUE" || errorCode === "SQLITE_CONSTRAINT_PRIMARYKEY") {
      return new CodedError(409, "CONFLICT", `a record with these values already exists (${uniqueColumns(errorMessage(error))})`);
    }
    return validationError([], `the record breaks a database rule: ${errorMessage(error)}`);
  }
  return null;
}

/** The response body and status for any error; logs the ones that are our fault. */
export function errorResponse(code: string | number | undefined, error: unknown, request: Request, requestId: string, logger: Logger): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const coded = toCodedError(code, error, request);
  if (coded) return { status: coded.status, body: envelope(coded), headers: coded.headers };
  logger.log("error", "request failed", {
    request_id: requestId,
    method: request.method,
    path: new URL(request.url).pathname,
    error: errorMessage(error),
    stack: error instanceof Error ? error.stack : undefined,
  });
  return { status: 500, body: envelope(new CodedError(500, "INTERNAL", `internal error (request id ${requestId})`)), headers: {} };
}

function envelope(error: CodedError): ErrorBody {
  return { error: { code: error.code, message: error.message, details: error.details } };
}

function uniqueColumns(message: string): string {
  return /UNIQUE constraint failed: (.*)$/.exec(message)?.[1] ?? "unique constraint";
}
