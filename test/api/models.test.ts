import { describe, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { defineModel } from "../../src/models/model.ts";
import { Pipeline } from "../../src/models/pipeline.ts";
import { addUser, testApp } from "./support.ts";

const Book = defineModel({
  name: "Book",
  table: "books",
  fields: t.Object({
    title: t.String({ minLength: 1 }),
    author: t.String(),
    price_cents: t.Integer({ minimum: 0 }),
    stock: t.Integer({ minimum: 0 }),
    in_print: t.Optional(t.Boolean()),
    tags: t.Optional(t.Array(t.String())),
  }),
  access: { list: "public", get: "public" },
});
const Note = defineModel({
  name: "Note",
  table: "notes",
  fields: t.Object({ owner_id: t.String(), text: t.String() }),
  ownerField: "owner_id",
  access: { create: "user", update: "user", delete: "user" },
});

function setup() {
  const pipeline = new Pipeline();
  const env = testApp({ models: [Book, Note], pipeline });
  const admin = addUser(env.services, "root", ["admin"]);
  const ana = addUser(env.services, "ana");
  const ben = addUser(env.services, "ben");
  const book = (title: string, price = 1000) => env.call("POST", "/api/books", { token: admin.token, body: { title, author: "A", price_cents: price, stock: 3 } });
  return { ...env, pipeline, admin, ana, ben, book };
}

describe("model CRUD", () => {
  test("create answers 201 with the stored record; get, patch, put and delete work; ids and times are set", async () => {
    const { call, admin, book } = setup();
    const created = await book("Dune", 1299);
    expect(created.status).toBe(201);
    const record = created.body.data;
    expect(record).toMatchObject({ title: "Dune", price_cents: 1299, stock: 3, in_print: null, tags: null });
    expect(record.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(record.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect((await call("GET", `/api/books/${record.id}`)).body.data).toEqual(record);
    const patched = await call("PATCH", `/api/books/${record.id}`, { token: admin.token, body: { stock: 7, in_print: true, tags: ["sf"] } });
    expect(patched.body.data).toMatchObject({ title: "Dune", stock: 7, in_print: true, tags: ["sf"] });
    const put = await call("PUT", `/api/books/${record.id}`, { token: admin.token, body: { title: "Dune II", author: "B", price_cents: 1, stock: 0 } });
    expect(put.body.data).toMatchObject({ title: "Dune II", author: "B", stock: 0 });
    const deleted = await call("DELETE", `/api/books/${record.id}`, { token: admin.token });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get("x-request-id")).toBeTruthy();
    expect((await call("GET", `/api/books/${record.id}`)).status).toBe(404);
  });

  test("lists paginate (default 20), filter with shorthand and filter=field:op:value, and sort stably", async () => {
    const { call, book } = setup();
    for (let i = 0; i < 25; i++) await book(`Book ${String(i).padStart(2, "0")}`, 100 * (i % 5));
    const first = await call("GET", "/api/books");
    expect(first.body.meta).toEqual({ total: 25, page: 1, limit: 20, pages: 2 });
    expect(first.body.data.length).toBe(20);
    expect((await call("GET", "/api/books?page=2")).body.data.length).toBe(5);
    const cheap = await call("GET", "/api/books?filter=price_cents:lt:200&sort=-title&limit=3");
    expect(cheap.body.meta.total).toBe(10);
    expect(cheap.body.data.map((b: any) => b.title)).toEqual(["Book 21", "Book 20", "Book 16"]);
    expect((await call("GET", "/api/books?price_cents=400")).body.meta.total).toBe(5);
    const or = await call("GET", "/api/books?filter[0]=title:eq:Book%2000&filter[0]=title:like:Book%201%25&sort=title:asc");
    expect(or.body.data.map((b: any) => b.title)).toEqual(["Book 00", "Book 10", "Book 11", "Book 12", "Book 13", "Book 14", "Book 15", "Book 16", "Book 17", "Book 18", "Book 19"]);
    const byPrice = await call("GET", "/api/books?sort=price_cents&limit=5");
    expect(byPrice.body.data.map((b: any) => b.title)).toEqual(["Book 00", "Book 05", "Book 10", "Book 15", "Book 20"]);
  });

  test("bad list queries are a 400 INVALID_QUERY, including SQL in field and sort names", async () => {
    const { call } = setup();
    for (const query of [
      "limit=101", "limit=0", "page=0", "page=abc", "nope=1", "filter=price_cents:between:1", "filter=nocolons",
      "price_cents=cheap", "sort=title;DROP TABLE books", "sort=-nope", "sort=title:sideways", "tags=sf",
      "filter=title)%20OR%201=1--:eq:x", "created_at=yesterday",
    ]) {
      const reply = await call("GET", `/api/books?${query}`);
      expect([query, reply.status, reply.body.error.code]).toEqual([query, 400, "INVALID_QUERY"]);
      expect(reply.body.error.details).toBeArray();
    }
    expect((await call("GET", "/api/books")).status).toBe(200); // the table is still there
  });

  test("bad bodies get the right 4xx and write nothing", async () => {
    const { call, admin } = setup();
    const post = (opts: Parameters<typeof call>[2]) => call("POST", "/api/books", { token: admin.token, ...opts });
    const cases: [string, Awaited<ReturnType<typeof call>>, number, string][] = [
      ["malformed JSON", await post({ raw: "{bad", headers: { "content-type": "application/json" } }), 400, "INVALID_JSON"],
      ["empty body", await post({ raw: "", headers: { "content-type": "application/json" } }), 400, "EMPTY_BODY"],
      ["wrong type", await post({ body: { title: "X", author: "A", price_cents: "12", stock: 1 } }), 422, "VALIDATION_ERROR"],
      ["unknown field", await post({ body: { title: "X", author: "A", price_cents: 1, stock: 1, discount: 5 } }), 422, "VALIDATION_ERROR"],
      ["missing field", await post({ body: { title: "X" } }), 422, "VALIDATION_ERROR"],
      ["array body", await post({ body: [1, 2] }), 422, "VALIDATION_ERROR"],
      ["form body", await post({ raw: "title=X", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415, "UNSUPPORTED_MEDIA_TYPE"],
      ["huge body", await post({ body: { title: "x".repeat(2 * 1024 * 1024), author: "A", price_cents: 1, stock: 1 } }), 413, "BODY_TOO_LARGE"],
    ];
    for (const [name, reply, status, code] of cases) expect([name, reply.status, reply.body.error.code]).toEqual([name, status, code]);
    const wrongType = cases[2]![1].body.error;
    expect(wrongType.details).toContainEqual({ field: "price_cents", message: expect.any(String) });
    expect(cases[3]![1].body.error.details.map((d: any) => d.field)).toContain("discount");
    expect((await call("GET", "/api/books")).body.meta.total).toBe(0);
  });

  test("unknown routes are 404 and known paths with another method are 405, both in the envelope", async () => {
    const { call, admin } = setup();
    const missing = await call("GET", "/api/nothing");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: "NOT_FOUND", details: [] });
    const notAllowed = await call("POST", "/api/books/01ARZ3NDEKTSV4RRFFQ69G5FAV", { token: admin.token, body: {} });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.body.error.code).toBe("METHOD_NOT_ALLOWED");
    expect(notAllowed.headers.get("x-request-id")).toBeTruthy();
    // Any method, a trailing slash; a body is parsed first, as a route of the path would; a
    // handler's own 404 stays a 404.
    for (const [method, path] of [["OPTIONS", "/api/books"], ["PUT", "/api/books/"], ["PROPFIND", "/api/books/x"], ["DELETE", "/admin"]] as const) {
      const reply = await call(method, path);
      expect([method, path, reply.status, reply.body.error]).toEqual([method, path, 405, { code: "METHOD_NOT_ALLOWED", message: `${method} is not allowed on ${path}`, details: [] }]);
    }
    expect((await call("POST", "/api/books/x", { raw: "nope", headers: { "content-type": "text/plain" } })).body.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    expect((await call("POST", "/api/books/x", { raw: "{", headers: { "content-type": "application/json" } })).body.error.code).toBe("INVALID_JSON");
    expect((await call("GET", "/api/books/x/y")).status).toBe(404);
    expect((await call("GET", "/api/books/01ARZ3NDEKTSV4RRFFQ69G5FAV")).body.error).toMatchObject({ code: "NOT_FOUND", message: "Book not found" });
  });

  test("writes need the role the model names: anonymous 401, wrong role 403, bad token 401", async () => {
    const { call, ana, book } = setup();
    const body = { title: "X", author: "A", price_cents: 1, stock: 1 };
    expect((await call("POST", "/api/books", { body })).status).toBe(401);
    expect((await call("POST", "/api/books", { body, token: ana.token })).status).toBe(403);
    expect((await call("POST", "/api/books", { body, token: "brt_forged" })).body.error.code).toBe("UNAUTHORIZED");
    expect((await call("GET", "/api/books", { headers: { authorization: "Basic abc" } })).status).toBe(401);
    expect((await book("ok")).status).toBe(201);
  });

  test("owned records: the owner is the caller, others get 404, admins see all", async () => {
    const { call, ana, ben, admin } = setup();
    const note = (await call("POST", "/api/notes", { token: ana.token, body: { text: "mine" } })).body.data;
    expect(note.owner_id).toBe(ana.id);
    expect((await call("POST", "/api/notes", { token: ana.token, body: { text: "x", owner_id: ben.id } })).status).toBe(422);
    await call("POST", "/api/notes", { token: ben.token, body: { text: "his" } });
    expect((await call("GET", "/api/notes", { token: ana.token })).body.data.map((n: any) => n.text)).toEqual(["mine"]);
    expect((await call("GET", `/api/notes/${note.id}`, { token: ben.token })).status).toBe(404);
    expect((await call("PATCH", `/api/notes/${note.id}`, { token: ben.token, body: { text: "stolen" } })).status).toBe(404);
    expect((await call("DELETE", `/api/notes/${note.id}`, { token: ben.token })).status).toBe(404);
    expect((await call("GET", "/api/notes", { token: admin.token })).body.meta.total).toBe(2);
  });

  test("a duplicate unique value is a 409 CONFLICT", async () => {
    const { call, admin } = setup();
    const body = { name: "Cy", email: "cy@example.com", roles: [] };
    expect((await call("POST", "/api/users", { token: admin.token, body })).status).toBe(201);
    const again = await call("POST", "/api/users", { token: admin.token, body });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");
  });
});

describe("pipeline hooks", () => {
  test("an after-create hook enqueues in the write's transaction; a throwing hook rolls back both", async () => {
    const { call, admin, pipeline, queue, db } = setup();
    let fail = false;
    pipeline.register(({ record, services }) => {
      services.queue.enqueue({ type: "index_book", payload: { id: record.id } });
      if (fail) throw new Error("search index refused");
    }, { model: "Book", position: "after", operations: ["create"] });
    const ok = await call("POST", "/api/books", { token: admin.token, body: { title: "A", author: "B", price_cents: 1, stock: 1 } });
    expect(ok.status).toBe(201);
    expect((await queue.listStatuses({ where: [], sort: [], limit: 10, offset: 0 })).rows.map((r) => r.type)).toEqual(["index_book"]);
    fail = true;
    const failed = await call("POST", "/api/books", { token: admin.token, body: { title: "C", author: "D", price_cents: 1, stock: 1 } });
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe("INTERNAL");
    expect(JSON.stringify(failed.body)).not.toContain("search index refused");
    expect(db.sqlite.query("SELECT count(*) AS n FROM books").get()).toEqual({ n: 1 });
    expect(db.sqlite.query("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: 1 });
  });

  test("a before hook can change the values written, and sees the previous record on update", async () => {
    const { call, admin, pipeline } = setup();
    const seen: unknown[] = [];
    pipeline.register(({ record, previous, operation }) => {
      if (typeof record.title === "string") record.title = record.title.trim();
      seen.push([operation, previous?.title ?? null]);
    }, { model: "Book", position: "before" });
    const created = (await call("POST", "/api/books", { token: admin.token, body: { title: "  Emma ", author: "A", price_cents: 1, stock: 1 } })).body.data;
    expect(created.title).toBe("Emma");
    await call("PATCH", `/api/books/${created.id}`, { token: admin.token, body: { title: " Persuasion" } });
    expect(seen).toEqual([["create", null], ["update", "Emma"]]);
  });
});
