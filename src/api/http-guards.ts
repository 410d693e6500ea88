// What every request passes before a handler sees it: a request id, the body size limit, and
// JSON as the only body type. Failing here means nothing was read further and nothing written.
import { emptyBody } from "../errors.ts";
import { bodyTooLarge, invalidJson, unsupportedMediaType } from "./http-errors.ts";

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** A caller-supplied id if it looks like one (so logs across services line up), else a new one. */
export function requestIdOf(request: Request, fresh: () => string): string {
  const given = request.headers.get("x-request-id");
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : fresh();
}

/** Refuses a declared length over the limit before the body is read. */
export function guardDeclaredLength(request: Request, limit: number): void {
  const length = request.headers.get("content-length");
  if (length !== null && Number(length) > limit) throw bodyTooLarge(limit);
}

/**
 * Our body parser for every request: no body is `null` (routes that need one answer
 * EMPTY_BODY); a body must be JSON, within the limit, and well-formed.
 */
export async function parseJsonBody(request: Request, limit: number): Promise<unknown> {
  const text = await request.text();
  if (text.length === 0) return null;
  if (Buffer.byteLength(text) > limit) throw bodyTooLarge(limit);
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) throw unsupportedMediaType(type);
  try {
    return JSON.parse(text);
  } catch {
    throw text.trim() === "" ? emptyBody() : invalidJson();
  }
}
