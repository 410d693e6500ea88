// Type.Omit and Type.Partial are built by hand at start (src/models/object-types.ts: TypeBox's
// mapped types cost a start ~1 ms) and must stay exactly what TypeBox builds: the same keys in
// the same order, its Kind and OptionalKind symbols included (what a check compiles from), the
// same property objects — for odd objects, the models' create and update bodies, ScheduleUpdate.
import { describe, expect, test } from "bun:test";
import { Type as t, type TObject, type TSchema } from "@sinclair/typebox";
import { ScheduleCreate, ScheduleUpdate } from "../../src/api/schemas.ts";
import { defineModel, type Model } from "../../src/models/model.ts";
import { omitProperties, partialProperties } from "../../src/models/object-types.ts";
import { validationSchema } from "../../src/models/time-field.ts";
import { usersModel } from "../../src/models/users.ts";
import { WebhookSubscription } from "../../src/models/webhooks.ts";
import { Book } from "../../src/store/catalogue.ts";
import { Order } from "../../src/store/orders.ts";

/** Every own key in order, symbols as `@@<description>`: JSON.stringify of this differs when any key, order or value does. */
function shape(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(shape);
  return Object.fromEntries(Reflect.ownKeys(value).map((k) => [typeof k === "symbol" ? `@@${k.description}` : k, shape((value as Record<PropertyKey, unknown>)[k])]));
}

const same = (built: unknown, expected: unknown) => {
  expect(JSON.stringify(shape(built))).toBe(JSON.stringify(shape(expected)));
  expect(JSON.stringify(built)).toBe(JSON.stringify(expected)); // what /openapi.json shows
};

describe("omitProperties and partialProperties are Type.Omit and Type.Partial, exactly", () => {
  const objects = {
    plain: t.Object({ a: t.String(), b: t.Optional(t.Integer()), c: t.Array(t.Boolean()) }),
    optioned: t.Object({ a: t.String({ minLength: 1 }), b: t.Union([t.Literal("x"), t.Null()]) }, { title: "Thing", description: "d", additionalProperties: false, $id: "Thing" }),
    readonly: t.Object({ a: t.Readonly(t.String()), b: t.ReadonlyOptional(t.Number()), c: t.Optional(t.Object({ d: t.String() })) }),
    allOptional: t.Object({ a: t.Optional(t.String()) }, { minProperties: 1 }),
    empty: t.Object({}),
    transformed: t.Transform(t.Object({ a: t.String(), b: t.Optional(t.String()) })).Decode((v) => v).Encode((v) => v),
  };
  for (const [name, object] of Object.entries(objects) as [string, TObject][]) {
    test(name, () => {
      for (const keys of [[], ["a"], ["a", "b"], ["missing"], Object.keys(object.properties)] as string[][]) {
        for (const options of [undefined, { additionalProperties: false }, { title: "T", minProperties: 1 }]) {
          const omitted = omitProperties(object, keys, options) as TObject;
          const expected = t.Omit(object, keys, options) as TObject;
          same(omitted, expected);
          for (const key of Object.keys(omitted.properties)) expect(omitted.properties[key]).toBe(expected.properties[key]!);
          same(partialProperties(omitted, options), t.Partial(expected, options));
          same(partialProperties(object, options), t.Partial(object, options));
        }
      }
    });
  }

  test("ScheduleUpdate", () => {
    const { name: _name, ...fields } = ScheduleCreate.properties;
    same(ScheduleUpdate, t.Partial(t.Object(fields), { additionalProperties: false, minProperties: 1 }));
  });
});

/** What defineModel built these from before: TypeBox's own Omit and Partial. */
function byTypeBox(model: Model) {
  const fields = model.definition.fields.properties as Record<string, TSchema>;
  const checked = t.Object(Object.fromEntries(Object.keys(fields).map((name) => [name, validationSchema(fields[name]!)])));
  const create = t.Omit(checked, model.ownerField ? [model.ownerField] : ([] as string[]), { additionalProperties: false });
  return { create, update: t.Partial(create, { additionalProperties: false, minProperties: 1 }) };
}

const odd = [
  defineModel({
    name: "Times",
    table: "times",
    fields: t.Object({ at: t.String({ format: "date-time", description: "when" }), maybe_at: t.Optional(t.Union([t.String({ format: "date-time" }), t.Null()])), n: t.Union([t.Number(), t.Null()]), label: t.Optional(t.String()) }),
  }),
  defineModel({ name: "OnlyOwner", table: "only_owner", fields: t.Object({ owner: t.String() }), ownerField: "owner" }),
  defineModel({ name: "AllOptional", table: "all_optional", fields: t.Object({ a: t.Optional(t.String()), b: t.Optional(t.Boolean()) }), writeOnly: ["a"], defaults: { b: true } }),
  defineModel({
    name: "Nested",
    table: "nested",
    fields: t.Object({ owner_id: t.String(), body: t.Object({ k: t.Array(t.String()) }, { additionalProperties: false }), status: t.Union([t.Literal("x"), t.Literal("y")]), due: t.Optional(t.String({ format: "date-time" })) }),
    ownerField: "owner_id",
    scheduled: [{ name: "go", field: "due", where: { status: "x" }, set: { status: "y" } }],
  }),
] as unknown as Model[];

describe("the models' create and update bodies are Type.Omit's and Type.Partial's, exactly", () => {
  for (const model of [usersModel, WebhookSubscription, Book, Order, ...odd] as unknown as Model[]) {
    test(model.name, () => {
      const expected = byTypeBox(model);
      const { create, update } = model.schemas as unknown as { create: TObject; update: TObject };
      same(create, expected.create);
      same(update, expected.update);
      // The create body's fields are the declared schema objects themselves (a time's, its checked copy), as Omit leaves them.
      const declared = model.definition.fields.properties as Record<string, TSchema>;
      for (const name of Object.keys(create.properties)) {
        if (validationSchema(declared[name]!) === declared[name]) expect(create.properties[name]).toBe(declared[name]!);
      }
    });
  }
});
