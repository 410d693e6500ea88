// OpenAPI 3.1, rendered from the routes' own declarations (the schemas that validate requests
// and type the app for Eden), checked by an independent validator and for what generators
// need: an operationId everywhere, required fields, enums, nullability only where a value can
// be null, the error envelope under every error status.
import { afterEach, beforeEach, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { bookstoreApp } from "./bookstore-app.ts";

let store: ReturnType<typeof bookstoreApp>;
beforeEach(() => (store = bookstoreApp()));
afterEach(() => store.close());

const documentOf = async () => (await (await store.app.handle(new Request("http://localhost/openapi.json"))).json()) as any;
const operations = (doc: any) =>
  Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.entries(item).filter(([m]) => m !== "parameters").map(([method, op]: [string, any]) => ({ path, method, op })));

test("/openapi.json is a valid OpenAPI 3.1 document of every route, each with an operationId", async () => {
  const doc = await documentOf();
  expect(doc.openapi).toBe("3.1.0");
  await SwaggerParser.validate(structuredClone(doc)); // throws on any violation
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
    "/api/books", "/api/books/{id}", "/api/orders", "/api/orders/{id}", "/api/job_statuses", "/api/job_statuses/{id}", "/api/job_statuses/{id}/cancel", "/api/job_statuses/{id}/retry",
    "/api/me", "/api/users/{id}/tokens", "/api/tokens/{id}", "/api/users", "/api/webhook_subscriptions", "/api/schedules", "/api/schedules/{name}/run",
    "/api/admin/overview", "/api/admin/jobs/{id}", "/api/admin/jobs/bulk", "/api/admin/webhook_deliveries", "/api/admin/webhook_deliveries/{id}/redeliver", "/healthz", "/readyz",
  ]));
  const ids = operations(doc).map(({ op }) => op.operationId);
  expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
  // Each route the app serves is documented (the 405 fallbacks and the HTML pages aside).
  const served = (store.app as unknown as { routes: { method: string; path: string }[] }).routes
    .filter((r) => r.method !== "ALL" && !["/openapi.json", "/docs", "/admin"].includes(r.path))
    .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
  expect(served.filter((r) => !operations(doc).some(({ path, method }) => `${method} ${path}` === r))).toEqual([]);
});

test("answers and bodies are the validated schemas: required, enums, nullable only where null can be", async () => {
  const doc = await documentOf();
  const book = doc.components.schemas.Book;
  expect(book.required).toEqual(expect.arrayContaining(["id", "title", "author", "price_cents", "stock", "status", "publish_at", "created_at", "updated_at"]));
  expect(book.properties.status).toEqual({ type: "string", enum: ["draft", "published"] });
  expect(book.properties.title).toMatchObject({ type: "string", minLength: 1 });
  expect(book.properties.publish_at.anyOf).toEqual([{ type: "string", format: "date-time" }, { type: "null" }]);
  const job = doc.components.schemas.JobStatus;
  expect(job.properties.status.enum).toEqual(["enqueued", "running", "succeeded", "failed", "dead", "cancelled"]);
  expect(job.required).toContain("result_url");
  expect(job.required).not.toContain("error"); // admins only
  expect(doc.components.schemas.ListMeta.properties).toMatchObject({ total_is_lower_bound: { type: "boolean" }, has_more: { type: "boolean" } });
  expect(doc.components.schemas.ListMeta.properties.next_cursor.anyOf).toContainEqual({ type: "null" });

  const place = doc.paths["/api/orders"].post;
  expect(place.requestBody.content["application/json"].schema).toMatchObject({ type: "object", required: ["lines"], additionalProperties: false });
  expect(Object.keys(place.responses)).not.toContain("200");
  expect(place.responses["202"].content["application/json"].schema).toMatchObject({ required: ["data"], properties: { data: { required: ["order_id", "job_id"], properties: { order_id: { type: "string" }, job_id: { type: "string" } } } } });
  expect(doc.paths["/api/me"].get.responses["200"].content["application/json"].schema).toMatchObject({ required: ["data"], properties: { data: { $ref: "#/components/schemas/Me" } } });
  expect(doc.components.schemas.Me.required).toEqual(["id", "name", "email", "roles"]);
  expect(doc.paths["/api/books"].post.requestBody.content["application/json"].schema.properties.price_cents).toMatchObject({ type: "integer", minimum: 0 });
  expect(doc.paths["/api/orders"].get.tags).toEqual(["orders"]); // orders are listed through the model…
  expect(doc.paths["/api/orders"].post.tags).toEqual(["actions"]); // …and created only by the place-order action
  expect(doc.paths["/api/schedules"].get.responses["200"].content["application/json"].schema.properties.data.items).toEqual({ $ref: "#/components/schemas/Schedule" });
});

test("every operation lists its error statuses, each answered with the error envelope", async () => {
  const doc = await documentOf();
  for (const { path, method, op } of operations(doc)) {
    if (path === "/api/realtime") continue;
    const errors = Object.keys(op.responses).filter((s) => Number(s) >= 400);
    expect(errors).toContain("500");
    for (const status of errors) expect(op.responses[status]).toEqual({ $ref: `#/components/responses/Error${status}` });
    if (op.requestBody) expect(errors).toEqual(expect.arrayContaining(["400", "413", "415", "422"]));
    if (op.security?.length !== 0) expect(errors).toContain("401"); // a token, where one is read, can be refused
    expect(`${method} ${path}: ${errors.length}`).not.toEndWith(": 0");
  }
  expect(doc.components.schemas.Error).toMatchObject({ required: ["error"], properties: { error: { required: ["code", "message", "details"] } } });
  const page = await store.app.handle(new Request("http://localhost/docs"));
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(await page.text()).toContain("/openapi.json");
});
