import { expect, test } from "bun:test";
import { knownPaths } from "../../src/api/known-paths.ts";

const match = knownPaths(["/api/books", "/api/books/:id", "/api/admin/jobs/:id", "/api/admin/jobs/bulk", "/api/users/:id/tokens", "/admin", "/api/books"]);

test("a pathname is matched to its pattern: parameters are non-empty segments, one trailing slash is ignored", () => {
  expect(match("/api/books")).toBe("/api/books");
  expect(match("/api/books/")).toBe("/api/books");
  expect(match("/api/books/01ARZ")).toBe("/api/books/:id");
  expect(match("/api/books/01ARZ/")).toBe("/api/books/:id");
  expect(match("/api/users/u1/tokens")).toBe("/api/users/:id/tokens");
  expect(match("/admin")).toBe("/admin");
});

test("a static segment wins over a parameter", () => {
  expect(match("/api/admin/jobs/bulk")).toBe("/api/admin/jobs/bulk");
  expect(match("/api/admin/jobs/j1")).toBe("/api/admin/jobs/:id");
});

test("unknown, longer, shorter, empty-parameter and encoded paths are not known", () => {
  for (const path of ["/", "/api", "/api/nothing", "/api/books/x/y", "/api/books//", "//api/books", "/api/users//tokens", "/api/%62ooks", "/admin/x"]) expect([path, match(path)]).toEqual([path, null]);
});
