// The start-up check of the OpenAPI component names (componentNames, run by createApp): two
// different schemas with one title stop the app; one schema reused by many routes, at any depth,
// is one component.
import { expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { componentNames } from "../../src/api/openapi.ts";
import type { RouteDoc } from "../../src/api/route-docs.ts";

const route = (path: string, response: RouteDoc["response"], body?: RouteDoc["body"]): RouteDoc => ({ method: body ? "POST" : "GET", path, operationId: path, summary: path, tags: [], response, ...(body ? { body } : {}) });

test("a titled schema shared by routes, bodies and nested answers is one component", () => {
  const book = t.Object({ id: t.String() }, { title: "Book" });
  const page = t.Object({ data: t.Array(book) });
  const names = componentNames([route("/a", { 200: t.Object({ data: book }) }), route("/b", { 200: page }), route("/c", { 201: t.Object({ data: book }) }, book), route("/d", { 200: t.Union([book, t.Null()]) })]);
  expect([...names.values()]).toEqual(["Book"]);
  expect(names.get(book)).toBe("Book");
});

test("two different schemas with one title stop the app, even when the second is nested deep in another route", () => {
  const first = t.Object({ id: t.String() }, { title: "Book" });
  const second = t.Object({ isbn: t.String() }, { title: "Book" });
  expect(() => componentNames([route("/a", { 200: first }), route("/b", { 200: t.Object({ data: t.Array(t.Object({ inner: second })) }) })])).toThrow('two different schemas are titled "Book": rename one');
});
