// A model is declared once with a TypeBox schema and becomes a migrated table, a validated
// store and CRUD routes under /api/<table>. Field names are used as they are declared, on
// the wire and in the database alike: declare them in snake_case.
import { Kind, OptionalKind, Type, type TObject, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type { Migration } from "../db/migrations.ts";
import type { Column, ColumnType } from "../db/list-query.ts";

/** Who may do something: anyone, any signed-in user, a role (admins always may), or nobody (no route). */
export type Access = "public" | "user" | { role: string } | false;
export type Operation = "list" | "get" | "create" | "update" | "delete";

export interface ModelDefinition<Fields extends TObject = TObject> {
  /** Singular, as in the seeds' ForModel("Order"). */
  name: string;
  /** Table name and path segment: /api/<table>. */
  table: string;
  fields: Fields;
  /** Defaults: reads need a signed-in user, writes the admin role. */
  access?: Partial<Record<Operation, Access>>;
  /** A field holding the owning user's id: set from the caller on create; non-admins see only their rows. */
  ownerField?: keyof Fields["properties"] & string;
  /** Extra indexes, each a list of column names. */
  indexes?: string[][];
  /** Unique indexes, each a list of column names; a duplicate write answers 409. */
  uniques?: string[][];
  /** Schema changes after the first version: versions 2, 3, … of component `model:<name>`. */
  migrations?: Omit<Migration, "component">[];
}

export interface Model {
  name: string;
  table: string;
  definition: ModelDefinition;
  /** Columns as stored, the system ones (id, created_at, updated_at) included. */
  columns: Column[];
  /** Names of the user-declared fields. */
  fieldNames: string[];
  access: Record<Operation, Access>;
  ownerField: string | null;
  validateCreate: TypeCheck<TSchema>;
  validateUpdate: TypeCheck<TSchema>;
  migrations: Migration[];
}

const DEFAULT_ACCESS: Record<Operation, Access> = { list: "user", get: "user", create: { role: "admin" }, update: { role: "admin" }, delete: { role: "admin" } };
const SYSTEM_COLUMNS: Column[] = [
  { name: "id", type: "text", filterable: true, sortable: true },
  { name: "created_at", type: "time", filterable: true, sortable: true },
  { name: "updated_at", type: "time", filterable: true, sortable: true },
];

export function defineModel<Fields extends TObject>(definition: ModelDefinition<Fields>): Model {
  if (!/^[a-z][a-z0-9_]*$/.test(definition.table)) throw new Error(`model ${definition.name}: table must be snake_case`);
  const properties = definition.fields.properties as Record<string, TSchema>;
  const fieldNames = Object.keys(properties);
  for (const name of fieldNames) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`model ${definition.name}: field "${name}" must be snake_case`);
    if (SYSTEM_COLUMNS.some((c) => c.name === name)) throw new Error(`model ${definition.name}: "${name}" is a system field`);
  }
  const fields: Column[] = fieldNames.map((name) => {
    const type = columnType(properties[name]!);
    const scalar = type !== "json";
    return { name, type, filterable: scalar, sortable: scalar };
  });
  const ownerField = definition.ownerField ?? null;
  // The owner is set from the caller, never from the body.
  const input = Type.Omit(definition.fields as TObject, ownerField ? [ownerField] : ([] as string[]), { additionalProperties: false });
  return {
    name: definition.name,
    table: definition.table,
    definition: definition as unknown as ModelDefinition,
    columns: [SYSTEM_COLUMNS[0]!, ...fields, ...SYSTEM_COLUMNS.slice(1)],
    fieldNames,
    access: { ...DEFAULT_ACCESS, ...definition.access },
    ownerField,
    validateCreate: TypeCompiler.Compile(input),
    validateUpdate: TypeCompiler.Compile(Type.Partial(input, { additionalProperties: false, minProperties: 1 })),
    migrations: modelMigrations(definition as unknown as ModelDefinition, properties),
  };
}

function modelMigrations(definition: ModelDefinition, properties: Record<string, TSchema>): Migration[] {
  const component = `model:${definition.table}`;
  const columns = Object.entries(properties).map(([name, schema]) => {
    const sqlType = { text: "TEXT", integer: "INTEGER", real: "REAL", boolean: "INTEGER", time: "INTEGER", json: "TEXT" }[columnType(schema)];
    return `"${name}" ${sqlType}${isOptional(schema) ? "" : " NOT NULL"}`;
  });
  const index = (unique: boolean) => (cols: string[]) =>
    `CREATE ${unique ? "UNIQUE " : ""}INDEX "${definition.table}_${cols.join("_")}" ON "${definition.table}" (${cols.map((c) => `"${c}"`).join(", ")});`;
  const indexes = [...(definition.indexes ?? []).map(index(false)), ...(definition.uniques ?? []).map(index(true))];
  // An owner's rows, newest first: the list every non-admin caller of an owned model gets.
  if (definition.ownerField) indexes.push(`CREATE INDEX "${definition.table}_owner" ON "${definition.table}" ("${definition.ownerField}", "created_at");`);
  const create = `CREATE TABLE "${definition.table}" ("id" TEXT PRIMARY KEY, ${columns.join(", ")}, "created_at" INTEGER NOT NULL, "updated_at" INTEGER NOT NULL);`;
  return [
    { component, version: 1, name: `create ${definition.table}`, up: [create, ...indexes].join("\n") },
    ...(definition.migrations ?? []).map((m) => ({ ...m, component })),
  ];
}

function columnType(schema: TSchema): ColumnType {
  switch (schema[Kind]) {
    case "String":
      return "text";
    case "Integer":
      return "integer";
    case "Number":
      return "real";
    case "Boolean":
      return "boolean";
    case "Union": {
      const members = (schema.anyOf as TSchema[]).filter((m) => m[Kind] !== "Null");
      if (members.every((m) => m[Kind] === "Literal" && typeof m.const === "string")) return "text";
      return members.length === 1 ? columnType(members[0]!) : "json";
    }
    case "Literal":
      return typeof schema.const === "number" ? (Number.isInteger(schema.const) ? "integer" : "real") : typeof schema.const === "boolean" ? "boolean" : "text";
    default:
      return "json";
  }
}

function isOptional(schema: TSchema): boolean {
  return schema[OptionalKind] === "Optional" || (schema[Kind] === "Union" && (schema.anyOf as TSchema[]).some((m) => m[Kind] === "Null"));
}
