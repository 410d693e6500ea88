// Time fields of a model: a field declared `t.String({ format: "date-time" })` is a point in
// time — ISO-8601 on the wire, epoch milliseconds in an INTEGER column (like created_at), so it
// sorts, filters and indexes as a number. Scheduled transitions are keyed on such fields.
//
// The "date-time" format is checked by our own pattern, never through TypeBox's process-wide
// FormatRegistry: what passes must not depend on which library registered the format first.
import { Kind, OptionalKind, Type, type TSchema } from "@sinclair/typebox";
import { validationError } from "../errors.ts";

/** A point in time with a UTC offset ("Z" or ±hh:mm); seconds required, up to milliseconds. */
const ISO_8601 = "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,3})?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$";
const ISO_PARTS = new RegExp(ISO_8601);

/** Whether a field's schema (possibly optional or nullable) declares a time. */
export function isTimeSchema(schema: TSchema): boolean {
  if (schema[Kind] === "String") return schema.format === "date-time";
  if (schema[Kind] !== "Union") return false;
  const members = (schema.anyOf as TSchema[]).filter((m) => m[Kind] !== "Null");
  return members.length === 1 && isTimeSchema(members[0]!);
}

/** The schema requests are checked against: the format swapped for the pattern above. */
export function validationSchema(schema: TSchema): TSchema {
  if (!isTimeSchema(schema)) return schema;
  const optional = schema[OptionalKind] === "Optional";
  let checked: TSchema;
  if (schema[Kind] === "Union") {
    checked = Type.Union((schema.anyOf as TSchema[]).map(validationSchema));
  } else {
    const { format: _format, ...options } = schema;
    checked = Type.String({ ...options, pattern: ISO_8601 });
  }
  return optional ? Type.Optional(checked) : checked;
}

/** An ISO-8601 time (already pattern-checked) to epoch ms; a day the month does not have is a 422. */
export function parseTime(field: string, value: string): number {
  const match = ISO_PARTS.exec(value);
  const ms = Date.parse(value);
  // Date.parse rolls 2026-02-30 over into March; a till clerk meant no such thing.
  const [year, month, day] = match ? [Number(value.slice(0, 4)), Number(match[1]), Number(match[2])] : [0, 0, 0];
  if (!match || Number.isNaN(ms) || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) {
    throw validationError([{ field, message: "must be an ISO-8601 time such as 2026-03-01T09:00:00Z" }]);
  }
  return ms;
}
