// Declaring scheduled transitions and time fields: what defineModel refuses, which migration
// creates each transition's index (so files from before it get the index too), and the plans
// of the runner's queries.
import { describe, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { defineModel, type ModelDefinition } from "../../src/models/model.ts";
import { ScheduledFields } from "../../src/models/scheduled-runner.ts";
import type { ScheduledDeclaration } from "../../src/models/scheduled.ts";
import { openDatabase } from "../../src/db/index.ts";
import { migrate } from "../../src/db/migrations.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { tempDir } from "../support/temp.ts";
import { addUser, testApp } from "./support.ts";

const fields = t.Object({
  title: t.String(),
  status: t.Union([t.Literal("draft"), t.Literal("published")]),
  flagged: t.Optional(t.Boolean()),
  publish_at: t.Optional(t.String({ format: "date-time" })),
  tags: t.Optional(t.Array(t.String())),
  owner_id: t.String(),
});
const publish: ScheduledDeclaration = { name: "publish", field: "publish_at", where: { status: "draft" }, set: { status: "published" } };
const post = (scheduled: ScheduledDeclaration[], more: Partial<ModelDefinition<typeof fields>> = {}) =>
  defineModel({ name: "Post", table: "posts", fields, ownerField: "owner_id", scheduled, ...more });

describe("declarations", () => {
  test("a valid declaration compiles to its partial index and the runner's SQL", () => {
    const [compiled] = post([{ ...publish, after: -60_000 }]).scheduled;
    expect(compiled).toMatchObject({ name: "publish", field: "publish_at", after: -60_000, since: 1, index: "posts_due_publish" });
    expect(compiled!.sql.createIndex).toBe(`CREATE INDEX "posts_due_publish" ON "posts" ("publish_at", "id") WHERE "status" = 'draft';`);
  });

  test("invalid declarations are refused with an error that names the model, the transition and the problem", () => {
    const cases: [Partial<ScheduledDeclaration>, RegExp][] = [
      [{ name: "Publish Now" }, /name must be snake_case/],
      [{ field: "publish_on" }, /field "publish_on" does not exist/],
      [{ field: "title" }, /field "title" is not a time/],
      [{ after: 1.5 }, /after must be whole milliseconds within ±10 years, not 1.5/],
      [{ after: 20 * 366 * 86_400_000 }, /after must be whole milliseconds/],
      [{ where: {} }, /where \(the from-state\) must name at least one field/],
      [{ where: { state: "draft" } }, /where names "state", which is not a declared field/],
      [{ where: { status: "archived" } }, /where status = "archived" is not a valid value of the field/],
      [{ where: { status: null } }, /where status = null is not a valid value/],
      [{ where: { tags: "x" } }, /where field "tags" must be a string, number or boolean field, not json/],
      [{ where: { publish_at: "2026-01-01T00:00:00Z" } }, /where field "publish_at" must be a string, number or boolean field, not time/],
      [{ set: {} }, /set must name at least one field/],
      [{ set: { status: "gone" } }, /set is not a valid change: status/],
      [{ set: { owner_id: "someone" } }, /set is not a valid change/],
      [{ set: { title: "Published" } }, /set must move the row out of the from-state/],
      [{ set: { status: "draft" } }, /set must move the row out of the from-state/],
      [{ since: 3 }, /since 3 names no migration of the model/],
    ];
    for (const [change, message] of cases) {
      expect(() => post([{ ...publish, ...change }])).toThrow(message);
      expect(() => post([{ ...publish, ...change }])).toThrow(/^model Post: scheduled "/);
    }
    expect(() => post([publish, publish])).toThrow(/scheduled "publish": a model's scheduled transitions need distinct names/);
  });

  test("null and boolean from-states are allowed where the field can hold them", () => {
    const [flagged] = post([{ ...publish, name: "unflagged", where: { status: "draft", flagged: null }, set: { status: "published", flagged: false } }]).scheduled;
    expect(flagged!.sql.due).toContain(`"status" = 'draft' AND "flagged" IS NULL`);
    const [truthy] = post([{ ...publish, where: { flagged: true }, set: { flagged: false } }]).scheduled;
    expect(truthy!.sql.createIndex).toEndWith(`WHERE "flagged" = 1;`);
  });
});

describe("migrations", () => {
  const v1 = defineModel({ name: "Post", table: "posts", fields: t.Object({ title: t.String() }) });
  const v2 = defineModel({
    name: "Post",
    table: "posts",
    fields: t.Object({ title: t.String(), status: t.Optional(t.Union([t.Literal("draft"), t.Literal("published")])), publish_at: t.Optional(t.String({ format: "date-time" })) }),
    migrations: [{ version: 2, name: "drafts", fields: ["status", "publish_at"], up: `ALTER TABLE posts ADD COLUMN status TEXT NOT NULL DEFAULT 'published'; ALTER TABLE posts ADD COLUMN publish_at INTEGER;` }],
    scheduled: [{ ...publish, since: 2 }],
  });
  const indexes = (sqlite: { query: (sql: string) => { all: () => unknown[] } }) =>
    (sqlite.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'posts' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);

  test("fields a later migration adds stay out of version 1, which is exactly what was released", () => {
    expect(v2.migrations[0]!.up).toBe(v1.migrations[0]!.up);
    expect(v2.migrations[1]!.up).toContain(`CREATE INDEX "posts_due_publish"`);
    expect(Object.keys(v2.migrations[1]!)).not.toContain("fields");
  });

  test("a file from before the transition gets its index, and its old rows the new column's default", () => {
    const tmp = tempDir();
    try {
      const old = openDatabase(tmp.file("a.db"), { migrations: v1.migrations });
      old.sqlite.run("INSERT INTO posts (id, title, created_at, updated_at) VALUES ('p1', 'Old', 1, 1)");
      old.close();
      const db = openDatabase(tmp.file("a.db"), { migrations: v2.migrations });
      expect(indexes(db.sqlite)).toEqual(["posts_due_publish"]);
      expect(db.sqlite.query("SELECT status, publish_at FROM posts").get()).toEqual({ status: "published", publish_at: null });
      db.close();
      const fresh = openDatabase(tmp.file("b.db"), { migrations: v2.migrations });
      expect(indexes(fresh.sqlite)).toEqual(["posts_due_publish"]);
      fresh.close();
    } finally {
      tmp.remove();
    }
  });

  test("a transition added to a released model without `since` leaves old files without its index: the runner refuses to start", () => {
    const db = openDatabase(":memory:", { migrations: jobsMigrations });
    migrate(db.sqlite, ":memory:", v1.migrations);
    const careless = defineModel({ name: "Post", table: "posts", fields: t.Object({ title: t.String(), status: t.String(), publish_at: t.Optional(t.String({ format: "date-time" })) }), scheduled: [{ ...publish, where: { status: "draft" } }] });
    const env = testApp({ db, models: [] });
    expect(() => new ScheduledFields({ services: env.services, models: [careless] }).start()).toThrow(/model Post: scheduled "publish" has no index posts_due_publish in this database; .* needs `since` naming a new migration/);
    db.close();
  });

  test("a declaration names fields and versions that exist, in an order that can be migrated", () => {
    const base = { name: "Post", table: "posts", fields: v2.definition.fields as typeof fields };
    expect(() => defineModel({ ...base, migrations: [{ version: 2, name: "x", fields: ["nope"], up: "" }] })).toThrow(/migration 2 adds "nope", which is not a declared field/);
    expect(() => defineModel({ ...base, migrations: [{ version: 2, name: "x", fields: ["status"], up: "" }], indexes: [["status"]] })).toThrow(/the index on \(status\) needs "status", added by migration 2/);
    expect(() => defineModel({ ...base, migrations: [{ version: 2, name: "x", fields: ["publish_at"], up: "" }], scheduled: [publish] })).toThrow(/field "publish_at" is added by migration 2, so the index can be created no earlier \(since ≥ 2\)/);
    expect(() => defineModel({ ...base, visible: { stauts: "published" } })).toThrow(/model Post: visible names "stauts", which is not a declared field/);
  });
});

describe("plans", () => {
  const Invoice = defineModel({
    name: "Invoice",
    table: "invoices",
    fields: t.Object({ state: t.Union([t.Literal("unpaid"), t.Literal("expired")]) }),
    scheduled: [{ name: "expire", field: "created_at", after: 1_800_000, where: { state: "unpaid" }, set: { state: "expired" } }],
  });
  const Post = post([publish]);
  const env = testApp({ models: [Post, Invoice] });
  const plan = (sql: string) => (env.db.sqlite.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join(" | ");

  test("the due and next-due queries search the transition's partial index, with no table scan and no sort", () => {
    for (const [model, table] of [[Post, "posts"], [Invoice, "invoices"]] as const) {
      const { sql, index, field } = model.scheduled[0]!;
      expect(plan(sql.due)).toBe(`SEARCH ${table} USING COVERING INDEX ${index} ((${field},id)>(?,?) AND ${field}<?)`);
      expect(plan(sql.nextDue)).toBe(`SEARCH ${table} USING COVERING INDEX ${index}`);
    }
  });
});

describe("time fields", () => {
  const env = testApp({ models: [post([publish], { access: { create: "user" } })] });
  const ana = addUser(env.services, "ana");
  const create = (publish_at: unknown) => env.call("POST", "/api/posts", { token: ana.token, body: { title: "T", status: "draft", publish_at } });

  test("are ISO-8601 on the wire and epoch milliseconds in the column, and filter as times", async () => {
    const created = await create("2026-03-01T10:00:00+01:00");
    expect(created.status).toBe(201);
    expect(created.body.data.publish_at).toBe("2026-03-01T09:00:00.000Z");
    expect(env.db.sqlite.query("SELECT publish_at FROM posts").get()).toEqual({ publish_at: Date.parse("2026-03-01T09:00:00Z") });
    const listed = await env.call("GET", "/api/posts?filter=publish_at:lte:2026-03-01T09:00:00Z", { token: ana.token });
    expect(listed.body.meta.total).toBe(1);
  });

  test("anything else is a 422 naming the field", async () => {
    for (const bad of ["tomorrow", "2026-03-01", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", 1_772_355_600_000]) {
      const reply = await create(bad);
      expect(reply.status).toBe(422);
      expect(reply.body.error.details[0].field).toBe("publish_at");
    }
  });
});
