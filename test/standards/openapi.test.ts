// OpenAPI 3.1, checked by an independent validator, and a typed client with Eden's treaty.
import { afterEach, beforeEach, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { treaty } from "@elysiajs/eden";
import { storeSurface, type StoreApp } from "../../src/store/api-types.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
beforeEach(() => (store = storeFixture()));
afterEach(() => store.close());

test("/openapi.json is a valid OpenAPI 3.1 document generated from the models, actions and routes", async () => {
  const doc = (await (await store.app.handle(new Request("http://localhost/openapi.json"))).json()) as any;
  expect(doc.openapi).toBe("3.1.0");
  await SwaggerParser.validate(structuredClone(doc)); // throws on any violation
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/books", "/api/books/{id}", "/api/orders", "/api/orders/{id}", "/api/job_statuses", "/api/job_statuses/{id}", "/api/job_statuses/{id}/cancel", "/api/webhook_subscriptions", "/healthz"]));
  const placeOrder = doc.paths["/api/orders"].post.requestBody.content["application/json"].schema;
  expect(placeOrder).toMatchObject({ type: "object", required: ["lines"], additionalProperties: false });
  expect(doc.paths["/api/books"].post.requestBody.content["application/json"].schema.properties.price_cents).toMatchObject({ type: "integer", minimum: 0 });
  expect(doc.paths["/api/orders"].get.tags).toEqual(["orders"]); // orders are listed through the model…
  expect(doc.paths["/api/orders"].post.tags).toEqual(["actions"]); // …and created only by the place-order action
  const page = await store.app.handle(new Request("http://localhost/docs"));
  expect(page.headers.get("content-type")).toContain("text/html");
  expect(await page.text()).toContain("/openapi.json");
});

test("Eden's treaty client places an order and polls its job to succeeded", async () => {
  store.app.listen({ port: 0, hostname: "127.0.0.1" });
  const worker = new Worker({ source: store.queue, handlers: store.handlers, logger: silentLogger }).start();
  try {
    const api = treaty<StoreApp>(`127.0.0.1:${store.app.server!.port}`, { headers: { authorization: `Bearer ${store.users.ana.token}` } });
    const [book] = store.books();
    const placed = await api.api.orders.post({ lines: [{ book_id: book!.id as string, quantity: 1 }] });
    expect(placed.status).toBe(202);
    const jobId: string = placed.data!.data.job_id;
    await waitFor(async () => (await api.api.job_statuses({ id: jobId }).get()).data?.data.status === "succeeded");
    const invalid = await api.api.orders.post({ lines: [] });
    expect(invalid.status).toBe(422);
    expect((invalid.error?.value as unknown as { error: { code: string } }).error.code).toBe("VALIDATION_ERROR");
  } finally {
    await worker.shutdown();
    await store.app.stop();
  }
});

test("every route of the typed surface exists in the real app", () => {
  const real = new Set((store.app as unknown as { routes: { method: string; path: string }[] }).routes.map((r) => `${r.method} ${r.path}`));
  for (const route of (storeSurface as unknown as { routes: { method: string; path: string }[] }).routes) expect(real.has(`${route.method} ${route.path}`)).toBe(true);
});
