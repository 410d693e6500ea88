// A model is declared once with a TypeBox schema and becomes a migrated table, a validated
// store and CRUD routes under /api/<table>. Field names are used as they are declared, on
// the wire and in the database alike: declare them in snake_case. A field declared
// `t.String({ format: "date-time" })` is a time (ISO-8601 on the wire, epoch ms stored).
import { Kind, OptionalKind, Type, type Static, type TObject, type TOptional, type TSchema } from "@sinclair/typebox";
import type { Migration } from "../db/migrations.ts";
import type { Column, ColumnType } from "../db/list-query.ts";
import { omitProperties, partialProperties } from "./object-types.ts";
import { compileScheduled, type ScheduledDeclaration, type ScheduledTransition } from "./scheduled.ts";
import { validationSchema } from "./time-field.ts";
import { lazyCheck, type Checker } from "./validate.ts";

/** Who may do something: anyone, any signed-in user, a role (admins always may), or nobody (no route). */
export type Access = "public" | "user" | { role: string } | false;
export type Operation = "list" | "get" | "create" | "update" | "delete";

/** A later version of a model's schema. */
export interface ModelMigration extends Omit<Migration, "component"> {
  /**
   * Declared fields whose columns this migration's `up` adds. Version 1's CREATE TABLE is
   * generated from the fields, so it leaves these out: it must stay what was released.
   */
  fields?: string[];
}

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
  /**
   * The rows anyone but an admin may see: those whose fields hold these values (books with
   * status "published", say). Others are a 404 to them, left out of their lists, and their
   * events are for admins only.
   */
  visible?: Record<string, string | number>;
  /**
   * Fields that are written but never read back (a webhook's secret): every answer leaves them
   * out and shows `<field>_hint` instead — the last 4 characters of a value of 16 or more
   * (`"…c0de"`), `"…"` for a shorter one — and they cannot be filtered or sorted on, so a list
   * query cannot guess them either. The model store still returns them to code.
   */
  writeOnly?: (keyof Fields["properties"] & string)[];
  /** Extra indexes, each a list of column names. */
  indexes?: string[][];
  /** Unique indexes, each a list of column names; a duplicate write answers 409. */
  uniques?: string[][];
  /** Schema changes after the first version: versions 2, 3, … of component `model:<name>`. */
  migrations?: ModelMigration[];
  /** Transitions that fall due at a time field (docs/scheduled-fields.md). */
  scheduled?: ScheduledDeclaration[];
  /**
   * Values an optional field takes when a create leaves it out (write the same as the column's
   * DEFAULT in its migration): the store writes them, so answers never show null for them.
   */
  defaults?: { [K in keyof Fields["properties"]]?: Static<Fields["properties"][K]> };
}

/** A schema typed as T (for the types of routes; its JSON Schema is what is documented). */
export type Typed<T> = TSchema & { static: T };

type Props<F extends TObject> = F["properties"];
type OptionalKeys<P> = { [K in keyof P]: P[K] extends TOptional<TSchema> ? K : never }[keyof P];
type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** A record as answers show it: system fields, each field (optional ones null when left out, unless defaulted), hints of write-only ones. */
export type RecordOf<F extends TObject, W extends string = never, D extends PropertyKey = never> = Flatten<
  { id: string } & { [K in Exclude<keyof Props<F>, W>]-?: K extends OptionalKeys<Props<F>> ? (K extends D ? Static<Props<F>[K]> : Static<Props<F>[K]> | null) : Static<Props<F>[K]> } & {
    [K in W as `${K}_hint`]: string | null;
  } & { created_at: string; updated_at: string }
>;
/** What a create (or a PUT) takes: the fields, less the owner (set from the caller). */
export type InputOf<F extends TObject, O extends string = never> = Flatten<Omit<Static<F>, O>>;

/** Which operations a model serves over REST (access false: no route). */
export type Routed<A> = { [K in Operation]: K extends keyof A ? (A[K] extends false ? never : K) : K }[Operation];

export interface Model<Table extends string = string, Rec = { [key: string]: unknown }, Input = { [key: string]: unknown }, Ops extends Operation = Operation> {
  name: string;
  table: Table;
  /** The operations with a route. */
  operations: Ops[];
  /** The answers' record, the create (and PUT) body and the PATCH body, as JSON Schema: documented and typed from here. */
  schemas: { record: Typed<Rec>; create: Typed<Input>; update: Typed<Partial<Input>> };
  definition: ModelDefinition;
  /** Columns as stored, the system ones (id, created_at, updated_at) included. */
  columns: Column[];
  /** Names of the user-declared fields. */
  fieldNames: string[];
  access: Record<Operation, Access>;
  ownerField: string | null;
  visible: Record<string, string | number> | null;
  writeOnly: string[];
  validateCreate: Checker;
  validateUpdate: Checker;
  migrations: Migration[];
  scheduled: ScheduledTransition[];
}

const DEFAULT_ACCESS: Record<Operation, Access> = { list: "user", get: "user", create: { role: "admin" }, update: { role: "admin" }, delete: { role: "admin" } };
const SYSTEM_COLUMNS: Column[] = [
  { name: "id", type: "text", filterable: true, sortable: true, notNull: true },
  { name: "created_at", type: "time", filterable: true, sortable: true, notNull: true },
  { name: "updated_at", type: "time", filterable: true, sortable: true, notNull: true },
];

export function defineModel<
  Fields extends TObject,
  const Table extends string,
  const A extends Partial<Record<Operation, Access>> = {},
  const Owner extends string = never,
  const WriteOnly extends string = never,
  const Defaults extends { [K in keyof Fields["properties"]]?: Static<Fields["properties"][K]> } = {},
>(
  definition: ModelDefinition<Fields> & { table: Table; access?: A; ownerField?: Owner; writeOnly?: WriteOnly[]; defaults?: Defaults },
): Model<Table, RecordOf<Fields, WriteOnly, keyof Defaults>, InputOf<Fields, Owner>, Routed<A>> {
  if (!/^[a-z][a-z0-9_]*$/.test(definition.table)) throw new Error(`model ${definition.name}: table must be snake_case`);
  const properties = definition.fields.properties as Record<string, TSchema>;
  const fieldNames = Object.keys(properties);
  for (const name of fieldNames) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`model ${definition.name}: field "${name}" must be snake_case`);
    if (SYSTEM_COLUMNS.some((c) => c.name === name)) throw new Error(`model ${definition.name}: "${name}" is a system field`);
  }
  const writeOnly: string[] = definition.writeOnly ?? [];
  for (const name of writeOnly) {
    if (!fieldNames.includes(name)) throw new Error(`model ${definition.name}: writeOnly names "${name}", which is not a declared field`);
  }
  const fields: Column[] = fieldNames.map((name) => {
    const type = columnType(properties[name]!);
    const scalar = type !== "json" && !writeOnly.includes(name);
    return { name, type, filterable: scalar, sortable: scalar };
  });
  const ownerField = definition.ownerField ?? null;
  for (const name of Object.keys(definition.visible ?? {})) {
    if (!fieldNames.includes(name)) throw new Error(`model ${definition.name}: visible names "${name}", which is not a declared field`);
  }
  // The owner is set from the caller, never from the body.
  const checked = Type.Object(Object.fromEntries(fieldNames.map((name) => [name, validationSchema(properties[name]!)])));
  const input = omitProperties(checked, ownerField ? [ownerField] : ([] as string[]), { additionalProperties: false });
  const columns = [SYSTEM_COLUMNS[0]!, ...fields, ...SYSTEM_COLUMNS.slice(1)];
  const patch = partialProperties(input, { additionalProperties: false, minProperties: 1 });
  const validateUpdate = lazyCheck(patch);
  const generic = definition as unknown as ModelDefinition;
  const addedIn = fieldsAddedLater(generic, fieldNames);
  const scheduled = compileScheduled(generic.scheduled ?? [], {
    model: definition.name,
    table: definition.table,
    columns,
    properties,
    updateSchema: patch,
    migrationVersions: (generic.migrations ?? []).map((m) => m.version),
    addedIn,
  });
  const access = { ...DEFAULT_ACCESS, ...definition.access };
  const schemas = {
    record: recordSchema(definition.name, properties, writeOnly, Object.keys(definition.defaults ?? {})),
    // The very schemas the bodies are checked against (validateCreate, validateUpdate).
    create: input,
    update: patch,
  };
  return {
    name: definition.name,
    table: definition.table,
    operations: (Object.keys(access) as Operation[]).filter((o) => access[o] !== false) as Routed<A>[],
    schemas: schemas as never,
    definition: generic,
    columns,
    fieldNames,
    access,
    ownerField,
    visible: definition.visible ?? null,
    writeOnly,
    validateCreate: lazyCheck(input),
    validateUpdate,
    migrations: modelMigrations(generic, properties, addedIn, scheduled),
    scheduled,
  };
}

/** The answers' record as JSON Schema (titled: a component of that name in /openapi.json): every key present; optional fields nullable unless defaulted. */
function recordSchema(title: string, properties: Record<string, TSchema>, writeOnly: readonly string[], defaulted: readonly string[]): TObject {
  const time = () => Type.String({ format: "date-time" });
  const field = (name: string, schema: TSchema): TSchema => {
    const { [OptionalKind]: optional, ...required } = schema;
    if (!optional) return schema;
    const bare = required as TSchema;
    if (defaulted.includes(name)) return bare;
    if (bare[Kind] === "Union" && (bare.anyOf as TSchema[]).some((m) => m[Kind] === "Null")) return bare;
    return Type.Union([bare, Type.Null()]);
  };
  return Type.Object({
    id: Type.String(),
    ...Object.fromEntries(Object.entries(properties).map(([name, schema]) =>
      writeOnly.includes(name) ? [`${name}_hint`, Type.Union([Type.String({ description: `write-only: the last 4 characters of ${name}` }), Type.Null()])] : [name, field(name, schema)])),
    created_at: time(),
    updated_at: time(),
  }, { title });
}

/** A record as answers show it: write-only fields left out, a hint of each in `<field>_hint`. */
export function readableRecord(model: Model, record: Record<string, unknown>): Record<string, unknown> {
  if (model.writeOnly.length === 0) return record;
  const out = { ...record };
  for (const name of model.writeOnly) {
    const value = out[name];
    delete out[name];
    out[`${name}_hint`] = typeof value === "string" ? writeOnlyHint(value) : null;
  }
  return out;
}

/** Enough to tell two values apart, never enough to guess one: a quarter at most. */
export function writeOnlyHint(value: string): string {
  return value.length >= 16 ? `…${value.slice(-4)}` : "…";
}

/** Which migration adds each field that version 1 leaves out. */
function fieldsAddedLater(definition: ModelDefinition, fieldNames: readonly string[]): Map<string, number> {
  const addedIn = new Map<string, number>();
  for (const m of definition.migrations ?? []) {
    for (const name of m.fields ?? []) {
      if (!fieldNames.includes(name)) throw new Error(`model ${definition.name}: migration ${m.version} adds "${name}", which is not a declared field`);
      if (addedIn.has(name)) throw new Error(`model ${definition.name}: "${name}" is added by two migrations`);
      addedIn.set(name, m.version);
    }
  }
  for (const cols of [...(definition.indexes ?? []), ...(definition.uniques ?? [])]) {
    const late = cols.find((c) => addedIn.has(c));
    if (late) throw new Error(`model ${definition.name}: the index on (${cols.join(", ")}) needs "${late}", added by migration ${addedIn.get(late)}: create it in that migration`);
  }
  return addedIn;
}

function modelMigrations(definition: ModelDefinition, properties: Record<string, TSchema>, addedIn: ReadonlyMap<string, number>, scheduled: readonly ScheduledTransition[]): Migration[] {
  const component = `model:${definition.table}`;
  const columns = Object.entries(properties).filter(([name]) => !addedIn.has(name)).map(([name, schema]) => {
    const sqlType = { text: "TEXT", integer: "INTEGER", real: "REAL", boolean: "INTEGER", time: "INTEGER", json: "TEXT" }[columnType(schema)];
    return `"${name}" ${sqlType}${isOptional(schema) ? "" : " NOT NULL"}`;
  });
  const index = (unique: boolean) => (cols: string[]) =>
    `CREATE ${unique ? "UNIQUE " : ""}INDEX "${definition.table}_${cols.join("_")}" ON "${definition.table}" (${cols.map((c) => `"${c}"`).join(", ")});`;
  const indexes = [...(definition.indexes ?? []).map(index(false)), ...(definition.uniques ?? []).map(index(true))];
  // An owner's rows, newest first: the list every non-admin caller of an owned model gets.
  if (definition.ownerField) indexes.push(`CREATE INDEX "${definition.table}_owner" ON "${definition.table}" ("${definition.ownerField}", "created_at");`);
  const create = `CREATE TABLE "${definition.table}" ("id" TEXT PRIMARY KEY, ${columns.join(", ")}, "created_at" INTEGER NOT NULL, "updated_at" INTEGER NOT NULL);`;
  // Each transition's index ends the version that introduced it (see ScheduledDeclaration.since).
  const dueIndexes = (version: number) => scheduled.filter((s) => s.since === version).map((s) => s.sql.createIndex);
  return [
    { component, version: 1, name: `create ${definition.table}`, up: [create, ...indexes, ...dueIndexes(1)].join("\n") },
    ...(definition.migrations ?? []).map(({ fields: _fields, ...m }) => ({ ...m, component, up: withStatements(m.up, dueIndexes(m.version)) })),
  ];
}

function withStatements(up: Migration["up"], statements: string[]): Migration["up"] {
  if (statements.length === 0) return up;
  if (typeof up === "string") return [up, ...statements].join("\n");
  return (db) => {
    up(db);
    for (const statement of statements) db.run(statement);
  };
}

function columnType(schema: TSchema): ColumnType {
  switch (schema[Kind]) {
    case "String":
      return schema.format === "date-time" ? "time" : "text";
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
