import { expect, test } from "bun:test";
import { addUser, testApp } from "./support.ts";

function setup() {
  const env = testApp();
  return { ...env, admin: addUser(env.services, "root", ["admin"]), ana: addUser(env.services, "ana") };
}

test("GET /api/me answers who the token belongs to; no token is a 401", async () => {
  const { call, ana } = setup();
  expect((await call("GET", "/api/me", { token: ana.token })).body.data).toEqual({ id: ana.id, name: "ana", email: "ana@example.com", roles: [] });
  const anonymous = await call("GET", "/api/me");
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.error.code).toBe("UNAUTHORIZED");
});

test("tokens are stored hashed, never in clear", () => {
  const { db, ana } = setup();
  const stored = JSON.stringify(db.sqlite.query("SELECT * FROM api_tokens").all());
  expect(stored).not.toContain(ana.token);
  expect(stored).toMatch(/[0-9a-f]{64}/);
});

test("a revoked token stops working at once, even after it was used", async () => {
  const { call, admin, ana } = setup();
  expect((await call("GET", "/api/me", { token: ana.token })).status).toBe(200);
  const issued = await call("POST", `/api/users/${ana.id}/tokens`, { token: admin.token });
  expect(issued.status).toBe(201);
  const second = issued.body.data.token as string;
  expect((await call("GET", "/api/me", { token: second })).status).toBe(200);
  expect((await call("POST", `/api/users/${ana.id}/tokens`, { token: ana.token })).status).toBe(403);
  expect((await call("DELETE", `/api/tokens/${issued.body.data.id}`, { token: ana.token })).status).toBe(204);
  expect((await call("GET", "/api/me", { token: second })).status).toBe(401);
  expect((await call("GET", "/api/me", { token: ana.token })).status).toBe(200);
});

test("a role taken away or a user deleted takes effect on the next request", async () => {
  const { call, admin, ana } = setup();
  const promoted = await call("PATCH", `/api/users/${ana.id}`, { token: admin.token, body: { roles: ["admin"] } });
  expect(promoted.status).toBe(200);
  expect((await call("GET", "/api/users", { token: ana.token })).status).toBe(200);
  await call("PATCH", `/api/users/${ana.id}`, { token: admin.token, body: { roles: [] } });
  expect((await call("GET", "/api/users", { token: ana.token })).status).toBe(403);
  expect((await call("DELETE", `/api/users/${ana.id}`, { token: admin.token })).status).toBe(204);
  expect((await call("GET", "/api/me", { token: ana.token })).status).toBe(401);
});

test("every response carries a request id; a sane incoming one is kept", async () => {
  const { call } = setup();
  const given = await call("GET", "/api/me", { headers: { "x-request-id": "till-7:abc.123" } });
  expect(given.headers.get("x-request-id")).toBe("till-7:abc.123");
  const made = await call("GET", "/api/me", { headers: { "x-request-id": "bad id with spaces" } });
  expect(made.headers.get("x-request-id")).toMatch(/^[0-9A-Z]{26}$/);
});
