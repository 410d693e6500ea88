// Request bodies are checked against the TypeBox schema with no coercion: a string where an
// integer belongs, or a field the schema does not name, is a 422 listing every problem.
import type { TSchema } from "@sinclair/typebox";
import type { TypeCheck } from "@sinclair/typebox/compiler";
import { emptyBody, validationError } from "./errors.ts";

export function validateBody<T>(check: TypeCheck<TSchema>, body: unknown): T {
  if (body === undefined || body === null || body === "") throw emptyBody();
  if (check.Check(body)) return body as T;
  const details = [...check.Errors(body)].slice(0, 20).map((e) => ({ field: e.path.replace(/^\//, "").replace(/\//g, ".") || "(body)", message: e.message }));
  throw validationError(details);
}
