// Every answer carries x-request-id and is counted once in the metrics, whichever hook made it:
// a plain JSON read (made in afterHandle), a created row (201), a Response, an error, no
// route, a declared length refused before any body is read, and the WebSocket upgrade (101).
import { afterEach, expect, test } from "bun:test";
import { InProcessBus } from "../../src/events/memory-bus.ts";
import { BackroomMetrics } from "../../src/ops/backroom-metrics.ts";
import { silentLogger } from "../../src/log.ts";
import { openDatabase } from "../../src/db/index.ts";
import { jobsMigrations } from "../../src/jobs/sqlite.ts";
import { addUser, testApp } from "./support.ts";

const ID = /^[0-9A-Z]{26}$/;
let stop: (() => unknown) | null = null;
afterEach(() => {
  stop?.();
  stop = null;
});

function setup() {
  const db = openDatabase(":memory:", { migrations: jobsMigrations });
  const metrics = new BackroomMetrics(db);
  const env = testApp({ db, operations: { metrics }, bus: new InProcessBus({ logger: silentLogger }) });
  return { ...env, metrics, admin: addUser(env.services, "root", ["admin"]), ana: addUser(env.services, "ana") };
}

test("answers made by every path carry a request id, and each is counted once under its status", async () => {
  const { call, queue, admin, ana, app } = setup();
  const job = await queue.enqueue({ type: "noop", payload: {}, actorId: ana.id });
  const answers = {
    read: await call("GET", `/api/job_statuses/${job}`, { token: ana.token }),
    created: await call("POST", `/api/users/${ana.id}/tokens`, { token: admin.token }),
    unauthorized: await call("GET", "/api/me"),
    noRoute: await call("GET", "/api/nothing-here"),
    readTooLarge: await call("GET", "/api/me", { token: ana.token, headers: { "content-length": String(64 * 1024 * 1024) } }),
    noRouteTooLarge: await call("GET", "/api/nothing-here", { headers: { "content-length": String(64 * 1024 * 1024) } }),
  };
  expect(Object.fromEntries(Object.entries(answers).map(([name, reply]) => [name, reply.status]))).toEqual({ read: 200, created: 201, unauthorized: 401, noRoute: 404, readTooLarge: 413, noRouteTooLarge: 413 });
  for (const reply of Object.values(answers)) {
    expect(reply.headers.get("x-request-id")).toMatch(ID);
    expect(reply.headers.get("content-type")).toBe("application/json;charset=utf-8");
  }
  expect(answers.read.body.data.id).toBe(job);
  expect(answers.readTooLarge.body.error.code).toBe("BODY_TOO_LARGE");
  expect(answers.noRouteTooLarge.body.error.code).toBe("BODY_TOO_LARGE");
  // A given id is answered back on a plain JSON read too.
  const given = await call("GET", `/api/job_statuses/${job}`, { token: ana.token, headers: { "x-request-id": "till-7:abc" } });
  expect(given.headers.get("x-request-id")).toBe("till-7:abc");

  const text = await (await app.handle(new Request("http://localhost/metrics"))).text();
  expect(text).toContain('backroom_http_requests_total{method="GET",route="/api/job_statuses/:id",status="200"} 2');
  expect(text).toContain('backroom_http_requests_total{method="POST",route="/api/users/:id/tokens",status="201"} 1');
  expect(text).toContain('backroom_http_requests_total{method="GET",route="/api/me",status="401"} 1');
  expect(text).toContain('backroom_http_requests_total{method="GET",route="unmatched",status="404"} 1');
  expect(text).toContain('backroom_http_requests_total{method="GET",route="/api/me",status="413"} 1');
  expect(text).toContain('backroom_http_requests_total{method="GET",route="unmatched",status="413"} 1');
});

test("the WebSocket upgrade's 101 carries a request id", async () => {
  const { app } = setup();
  app.listen({ hostname: "127.0.0.1", port: 0 });
  stop = () => app.stop(true);
  const hostname = "127.0.0.1";
  const port = app.server!.port!;
  const head = Promise.withResolvers<string>();
  const socket = await Bun.connect({ hostname, port, socket: { data: (_s, data) => head.resolve(new TextDecoder().decode(data)) } });
  try {
    socket.write(`GET /api/realtime HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    const answer = await head.promise;
    expect(answer).toStartWith("HTTP/1.1 101");
    expect(/^x-request-id: (\S+)\r$/im.exec(answer)?.[1]).toMatch(ID);
  } finally {
    socket.end();
  }
});
