// A model's create and update bodies are built by hand (src/models/model.ts: TypeBox's mapped
// types cost a start ~1 ms), and must stay exactly what Type.Omit and Type.Partial build: the
// same keys in the same order, TypeBox's Kind and OptionalKind symbols included (what a check
// compiles from), the same property objects — for the bookstore's models and odd shapes.
import { describe, expect, test } from "bun:test";
import { Type as t, type TObject, type TSchema } from "@sinclair/typebox";
import { defineModel, type Model } from "../../src/models/model.ts";
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

describe("create and update bodies are Type.Omit's and Type.Partial's, exactly", () => {
  for (const model of [usersModel, WebhookSubscription, Book, Order, ...odd] as unknown as Model[]) {
    test(model.name, () => {
      const expected = byTypeBox(model);
      const { create, update } = model.schemas as unknown as { create: TObject; update: TObject };
      expect(JSON.stringify(shape(create))).toBe(JSON.stringify(shape(expected.create)));
      expect(JSON.stringify(shape(update))).toBe(JSON.stringify(shape(expected.update)));
      // The create body's fields are the declared schema objects themselves (a time's, its checked copy), as Omit leaves them.
      const declared = model.definition.fields.properties as Record<string, TSchema>;
      for (const name of Object.keys(create.properties)) {
        if (validationSchema(declared[name]!) === declared[name]) expect(create.properties[name]).toBe(declared[name]!);
      }
      // What /openapi.json shows.
      expect(JSON.stringify(create)).toBe(JSON.stringify(expected.create));
      expect(JSON.stringify(update)).toBe(JSON.stringify(expected.update));
    });
  }
});
