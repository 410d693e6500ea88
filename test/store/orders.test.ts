// The seeds' client flow end to end, and every way placing an order can go wrong.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitFor } from "../support/wait.ts";
import { storeFixture, type StoreFixture } from "./support.ts";

let store: StoreFixture;
beforeEach(() => (store = storeFixture()));
afterEach(() => store.close());

const order = (token: string, lines: { book_id: string; quantity: number }[], headers: Record<string, string> = {}) =>
  store.call("POST", "/api/orders", { token, body: { lines }, headers });
const count = (table: string) => (store.db.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe("placing an order", () => {
  test("POST /api/orders → 202 with order and job ids; the status polls from enqueued to succeeded with completed_at and the receipt", async () => {
    const [book] = store.books();
    const placed = await order(store.users.ana.token, [{ book_id: book!.id as string, quantity: 2 }]);
    expect(placed.status).toBe(202);
    const { order_id, job_id } = placed.body.data;
    expect(order_id).toMatch(/^[0-9A-Z]{26}$/);

    const first = await store.call("GET", `/api/job_statuses/${job_id}`, { token: store.users.ana.token });
    expect(first.body.data).toMatchObject({ id: job_id, type: "send_receipt", status: "enqueued", actor_id: store.users.ana.id, attempts: 0, completed_at: null });

    store.startWorker();
    let status: any;
    await waitFor(async () => {
      status = (await store.call("GET", `/api/job_statuses/${job_id}`, { token: store.users.ana.token })).body.data;
      return status.status === "succeeded";
    });
    expect(status.completed_at).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(status.result_url).toBeNull(); // a path on the server: the admin's to see
    const asAdmin = (await store.call("GET", `/api/job_statuses/${job_id}`, { token: store.users.admin.token })).body.data;
    expect(asAdmin.result_url).toStartWith("file://");
    const eml = readFileSync(fileURLToPath(asAdmin.result_url), "utf8");
    expect(eml).toContain("To: ana@example.com");
    expect(eml).toContain(`Subject: Your receipt for order ${order_id}`);
    expect(eml).toContain((2 * (book!.price_cents as number) / 100).toFixed(2));

    const stored = (await store.call("GET", `/api/orders/${order_id}`, { token: store.users.ana.token })).body.data;
    expect(stored).toMatchObject({ user_id: store.users.ana.id, status: "placed", total_cents: 2 * (book!.price_cents as number) });
    expect(store.books()[0]!.stock).toBe((book!.stock as number) - 2);
  });

  test("when the enqueue fails, there is no order, no stock change and no job", async () => {
    const [book] = store.books();
    store.queue.enqueue = () => {
      throw new Error("disk I/O error");
    };
    const placed = await order(store.users.ana.token, [{ book_id: book!.id as string, quantity: 1 }]);
    expect(placed.status).toBe(500);
    expect(placed.body.error.code).toBe("INTERNAL");
    expect(JSON.stringify(placed.body)).not.toContain("disk I/O");
    expect(count("orders")).toBe(0);
    expect(count("jobs")).toBe(0);
    expect(store.books()[0]!.stock).toBe(book!.stock);
  });

  test("not enough stock is a 409 and an unknown book a 422; nothing is written", async () => {
    const [a, b] = store.books();
    const stocksBefore = store.books().map((x) => x.stock);
    const tooMany = await order(store.users.ana.token, [{ book_id: a!.id as string, quantity: 1 }, { book_id: b!.id as string, quantity: 999 }]);
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.error.message).toContain("not enough stock");
    const unknown = await order(store.users.ana.token, [{ book_id: "nope", quantity: 1 }]);
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details).toEqual([{ field: "lines.0.book_id", message: "no book on sale with id nope" }]);
    expect(count("orders")).toBe(0);
    expect(count("jobs")).toBe(0);
    expect(store.books().map((x) => x.stock)).toEqual(stocksBefore);
    expect(store.books()[0]!.stock).toBe(a!.stock);
  });

  test("bad requests get a 4xx envelope and write nothing", async () => {
    const [book] = store.books();
    const token = store.users.ana.token;
    const post = (opts: any) => store.call("POST", "/api/orders", { token, ...opts });
    const replies = {
      malformed: await post({ raw: '{"lines": [', headers: { "content-type": "application/json" } }),
      empty: await post({ raw: "", headers: { "content-type": "application/json" } }),
      wrongType: await post({ body: { lines: [{ book_id: book!.id, quantity: "2" }] } }),
      unknownField: await post({ body: { lines: [{ book_id: book!.id, quantity: 1 }], discount: 50 } }),
      noLines: await post({ body: { lines: [] } }),
      huge: await post({ body: { lines: [{ book_id: "x".repeat(2_000_000), quantity: 1 }] } }),
      text: await post({ raw: "lines=1", headers: { "content-type": "text/plain" } }),
      anonymous: await store.call("POST", "/api/orders", { body: { lines: [{ book_id: book!.id, quantity: 1 }] } }),
    };
    const summary = Object.fromEntries(Object.entries(replies).map(([k, r]) => [k, `${r.status} ${r.body.error.code}`]));
    expect(summary).toEqual({
      malformed: "400 INVALID_JSON",
      empty: "400 EMPTY_BODY",
      wrongType: "422 VALIDATION_ERROR",
      unknownField: "422 VALIDATION_ERROR",
      noLines: "422 VALIDATION_ERROR",
      huge: "413 BODY_TOO_LARGE",
      text: "415 UNSUPPORTED_MEDIA_TYPE",
      anonymous: "401 UNAUTHORIZED",
    });
    for (const reply of Object.values(replies)) expect(reply.headers.get("x-request-id")).toBeTruthy();
    expect(count("orders")).toBe(0);
    expect(count("jobs")).toBe(0);
  });

  test("a retried request with the same Idempotency-Key gets the first answer, not a second order", async () => {
    const [book] = store.books();
    const lines = [{ book_id: book!.id as string, quantity: 1 }];
    const first = await order(store.users.ana.token, lines, { "idempotency-key": "till-7-sale-42" });
    const again = await order(store.users.ana.token, lines, { "idempotency-key": "till-7-sale-42" });
    expect(again.status).toBe(202);
    expect(again.body.data).toEqual(first.body.data);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(count("orders")).toBe(1);
    expect(count("jobs")).toBe(1);
    expect(store.books()[0]!.stock).toBe((book!.stock as number) - 1);
    const otherBody = await order(store.users.ana.token, [{ book_id: book!.id as string, quantity: 2 }], { "idempotency-key": "till-7-sale-42" });
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const otherUser = await order(store.users.ben.token, lines, { "idempotency-key": "till-7-sale-42" });
    expect(otherUser.status).toBe(202); // keys are per caller
    expect(count("orders")).toBe(2);
  });

  test("a failing mailer retries, then the job is dead with the error; the order stays", async () => {
    const failing = storeFixture({ mailer: { send: () => Promise.reject(new Error("550 mailbox unavailable")), close() {} } });
    try {
      const [book] = failing.books();
      const { order_id, job_id } = (await failing.call("POST", "/api/orders", { token: failing.users.ana.token, body: { lines: [{ book_id: book!.id, quantity: 1 }] } })).body.data;
      failing.startWorker({ baseMs: 1, jitter: 0 });
      await waitFor(async () => (await failing.queue.getStatus(job_id))?.status === "dead");
      const asAdmin = (await failing.call("GET", `/api/job_statuses/${job_id}`, { token: failing.users.admin.token })).body.data;
      expect(asAdmin).toMatchObject({ status: "dead", attempts: 3, error: "550 mailbox unavailable" });
      const asOwner = (await failing.call("GET", `/api/job_statuses/${job_id}`, { token: failing.users.ana.token })).body.data;
      expect(asOwner.status).toBe("dead");
      expect("error" in asOwner).toBe(false); // errors can leak internals: admins only
      expect((await failing.call("GET", `/api/orders/${order_id}`, { token: failing.users.ana.token })).body.data.status).toBe("placed");
    } finally {
      await failing.close();
    }
  });
});

describe("job statuses", () => {
  const place = async (who: "ana" | "ben") => {
    const [book] = store.books();
    return (await order(store.users[who].token, [{ book_id: book!.id as string, quantity: 1 }])).body.data.job_id as string;
  };

  test("callers see only their own jobs; admins see all; anonymous callers need a token", async () => {
    const anas = await place("ana");
    const bens = await place("ben");
    const list = async (token?: string) => (await store.call("GET", "/api/job_statuses", { token })).body;
    expect((await list(store.users.ana.token)).data.map((j: any) => j.id)).toEqual([anas]);
    expect((await list(store.users.ben.token)).data.map((j: any) => j.id)).toEqual([bens]);
    expect((await list(store.users.admin.token)).data.map((j: any) => j.id)).toEqual([anas, bens]);
    expect((await store.call("GET", `/api/job_statuses/${bens}`, { token: store.users.ana.token })).status).toBe(404);
    expect((await store.call("GET", "/api/job_statuses")).status).toBe(401);
    const filtered = await store.call("GET", `/api/job_statuses?status=enqueued&type=send_receipt&sort=-created_at`, { token: store.users.admin.token });
    expect(filtered.body.data.map((j: any) => j.id)).toEqual([bens, anas]);
    expect(filtered.body.meta).toEqual({ total: 2, page: 1, limit: 20, pages: 1 });
    expect((await store.call("GET", "/api/job_statuses?payload=x", { token: store.users.admin.token })).status).toBe(400);
  });

  test("job statuses are read-only: POST, PUT, PATCH and DELETE are 405 JOB_STATUS_READONLY with Allow: GET", async () => {
    const id = await place("ana");
    const token = store.users.admin.token;
    for (const [method, path] of [["POST", "/api/job_statuses"], ["PUT", `/api/job_statuses/${id}`], ["PATCH", `/api/job_statuses/${id}`], ["DELETE", `/api/job_statuses/${id}`]] as const) {
      const reply = await store.call(method, path, { token, body: { status: "succeeded" } });
      expect([method, reply.status, reply.body.error.code, reply.headers.get("allow")]).toEqual([method, 405, "JOB_STATUS_READONLY", "GET"]);
      expect(reply.headers.get("x-request-id")).toBeTruthy();
    }
    expect((await store.queue.getStatus(id))?.status).toBe("enqueued");
  });

  test("cancel: the owner may cancel a queued job (200), not a started or finished one (409); others get 404", async () => {
    const id = await place("ana");
    expect((await store.call("POST", `/api/job_statuses/${id}/cancel`, { token: store.users.ben.token })).status).toBe(404);
    const cancelled = await store.call("POST", `/api/job_statuses/${id}/cancel`, { token: store.users.ana.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data.status).toBe("cancelled");
    expect((await store.call("POST", `/api/job_statuses/${id}/cancel`, { token: store.users.ana.token })).status).toBe(409);
    const running = await place("ana");
    await store.queue.settleAndClaim([], 10, 30_000);
    const refused = await store.call("POST", `/api/job_statuses/${running}/cancel`, { token: store.users.ana.token });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain("already started");
    expect((await store.call("POST", "/api/job_statuses/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel", { token: store.users.admin.token })).status).toBe(404);
  });

  test("retry of a dead job is for admins only, and only for dead jobs", async () => {
    const id = await place("ana");
    expect((await store.call("POST", `/api/job_statuses/${id}/retry`, { token: store.users.admin.token })).status).toBe(409);
    const [job] = (await store.queue.settleAndClaim([], 1, 30_000)).claimed;
    await store.queue.settleAndClaim([{ kind: "dead", job: job!, error: "boom", at: Date.now() }], 0, 30_000);
    expect((await store.call("POST", `/api/job_statuses/${id}/retry`, { token: store.users.ana.token })).status).toBe(403);
    const retried = await store.call("POST", `/api/job_statuses/${id}/retry`, { token: store.users.admin.token });
    expect(retried.status).toBe(200);
    expect(retried.body.data).toMatchObject({ status: "enqueued", attempts: 0 });
  });
});
