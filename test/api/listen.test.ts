// listenOnce (src/api/listen.ts) serves the app as Elysia's listen() would, with one build of its
// handlers: over a real socket, the routes answer from Bun's route table, other methods of a
// known path get the 405 envelope, unknown paths the 404, and the realtime WebSocket upgrades.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { listenOnce } from "../../src/api/listen.ts";
import { silentLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/runtime/server.ts";
import { bookstore } from "../../src/store/app.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
let server: RunningServer;
beforeEach(async () => {
  tmp = tempDir();
  server = await startServer(bookstore, { db: tmp.file("store.db"), port: 0, dev: true, logger: silentLogger, outbox: tmp.file("outbox") });
});
afterEach(async () => {
  await server.stop();
  tmp.remove();
});

test("routes, a path's other methods (405), unknown paths (404) and a trailing slash answer over the socket", async () => {
  const answer = async (method: string, path: string) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: "Bearer dev-admin-token" } });
    return { status: response.status, body: method === "HEAD" ? null : await response.json() };
  };
  expect(await answer("GET", "/readyz")).toMatchObject({ status: 200, body: { data: { status: "ready" } } });
  expect(await answer("GET", "/api/books/")).toMatchObject({ status: 200, body: { meta: { total: 5 } } });
  expect((await answer("HEAD", "/healthz")).status).toBe(200);
  expect(await answer("PATCH", "/readyz")).toMatchObject({ status: 405, body: { error: { code: "METHOD_NOT_ALLOWED" } } });
  expect(await answer("GET", "/api/nothing")).toMatchObject({ status: 404, body: { error: { code: "NOT_FOUND" } } });
});

test("the realtime WebSocket upgrades and authenticates", async () => {
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/api/realtime?token=dev-admin-token`);
  try {
    const first = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (message) => resolve(String(message.data));
      ws.onerror = () => reject(new Error("the WebSocket failed"));
    });
    expect(JSON.parse(first)).toEqual({ type: "ready", authenticated: true });
  } finally {
    ws.close();
  }
});

test("an app listenOnce cannot serve as listen() would (a static response, served by listen() from Bun's table) is refused", () => {
  expect(() => listenOnce(new Elysia().get("/", "hi"), { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: 1024 })).toThrow("use app.listen()");
});
