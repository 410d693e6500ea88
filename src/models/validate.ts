// Request bodies are checked against the TypeBox schema with no coercion: a string where an
// integer belongs, or a field the schema does not name, is a 422 listing the first
// MAX_ERRORS problems. TypeBox's Errors() is a lazy iterator: it must never be spread. A 1 MB
// body of `{"lines":[{},{},…]}` holds 1.4 million errors; building them all took 3-5 s and
// ~500 MB of one request, and every other request (/healthz too) waited behind it.
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { emptyBody, validationError } from "../errors.ts";

export const MAX_ERRORS = 20;

/** What a body is checked with: a compiled TypeBox check, or lazyCheck's stand-in for one. */
export type Checker = Pick<TypeCheck<TSchema>, "Check" | "Errors">;

/**
 * The schema's compiled check, compiled when first used: compiling every model's and route's
 * checks took a start ~10 ms (issue 20), and a till answers most of its routes never.
 */
export function lazyCheck(schema: TSchema): Checker {
  let compiled: TypeCheck<TSchema> | null = null;
  const check = () => (compiled ??= TypeCompiler.Compile(schema));
  return { Check: (value): value is unknown => check().Check(value), Errors: (value) => check().Errors(value) };
}

export function validateBody<T>(check: Checker, body: unknown): T {
  if (body === undefined || body === null || body === "") throw emptyBody();
  if (check.Check(body)) return body as T;
  throw validationError(firstErrors(check, body).map((e) => ({ field: e.path.replace(/^\//, "").replace(/\//g, ".") || "(body)", message: e.message })));
}

/** The first `max` errors, pulled one by one from the iterator (the rest are never built). */
export function firstErrors(check: Checker, value: unknown, max = MAX_ERRORS): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  for (const error of check.Errors(value)) {
    errors.push(error);
    if (errors.length === max) break;
  }
  return errors;
}
