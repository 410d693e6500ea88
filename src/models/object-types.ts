// Type.Omit and Type.Partial of an object schema, built as TypeBox builds them — the same keys
// in the same order, its Kind and OptionalKind symbols included, the same property objects
// (test/api/object-types.test.ts holds them equal) — without its mapped-type machinery: their
// first calls ran some forty cold type guards, ~1 ms of every start (issue 20), for the models'
// bodies and ScheduleUpdate. For a plain TObject only (no union, intersection or reference).
import { CreateType, TransformKind, Type, type SchemaOptions, type TObject, type TOmit, type TPartial, type TSchema } from "@sinclair/typebox";

/** What TypeBox keeps of an object's own options when it maps the object: all but these. */
function objectOptions(object: TObject): { properties: Record<string, TSchema>; options: SchemaOptions } {
  const { [TransformKind]: _transform, $id: _id, required: _required, properties, ...options } = object as TObject & { [TransformKind]?: unknown };
  return { properties, options };
}

/** Type.Omit(object, keys, options). */
export function omitProperties<T extends TObject, K extends PropertyKey[]>(object: T, keys: readonly [...K], options?: SchemaOptions): TOmit<T, K> {
  let { properties, options: own } = objectOptions(object);
  for (const key of keys as readonly string[]) {
    const { [key]: _omitted, ...rest } = properties;
    properties = rest;
  }
  return CreateType({ ...Type.Object(properties, own), ...options }) as TOmit<T, K>;
}

/** Type.Partial(object, options). */
export function partialProperties<T extends TObject>(object: T, options?: SchemaOptions): TPartial<T> {
  const { properties, options: own } = objectOptions(object);
  const optional: Record<string, TSchema> = {};
  for (const name of Object.getOwnPropertyNames(properties)) optional[name] = Type.Optional(properties[name]!);
  return CreateType({ ...Type.Object(optional, own), ...options }) as TPartial<T>;
}
