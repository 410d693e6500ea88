// The dashboard's own API: bulk actions on the selected jobs (each answered, at most 500, bad
// bodies refused with nothing done), webhook deliveries with the receiver's last HTTP status,
// and redelivery — all admin only.
import { expect, test } from "bun:test";
import { deliveryHttpStatus, WEBHOOK_JOB } from "../../src/models/webhooks.ts";
import { addUser, testApp } from "./support.ts";

function setup() {
  const t = testApp();
  const admin = addUser(t.services, "root", ["admin"]);
  const clerk = addUser(t.services, "clerk");
  return { ...t, admin: admin.token, clerk: clerk.token };
}

test("bulk by ids answers what became of each selected job, and acts on those only", async () => {
  const { call, queue, admin } = setup();
  const [a, b, c] = queue.enqueueMany([{ type: "noop" }, { type: "noop" }, { type: "noop" }]);
  const res = await call("POST", "/api/admin/jobs/bulk", { token: admin, body: { action: "cancel", ids: [a, c, "01NOSUCHJOB0000000000000000"] } });
  expect(res.status).toBe(200);
  expect(res.body.data).toEqual({ action: "cancel", affected: 2, limit: 500, results: [{ id: a, result: "cancelled" }, { id: c, result: "cancelled" }, { id: "01NOSUCHJOB0000000000000000", result: "not_found" }] });
  expect((await queue.getStatus(b!))!.status).toBe("enqueued");
  const retry = await call("POST", "/api/admin/jobs/bulk", { token: admin, body: { action: "retry", ids: [b] } });
  expect(retry.body.data).toMatchObject({ affected: 0, results: [{ id: b, result: "not_dead" }] });
});

test("bulk delete removes the selected finished jobs only", async () => {
  const { call, queue, admin } = setup();
  const [done, waiting] = queue.enqueueMany([{ type: "noop" }, { type: "noop" }]);
  expect(await queue.cancel(done!)).toBe("cancelled");
  const res = await call("POST", "/api/admin/jobs/bulk", { token: admin, body: { action: "delete", ids: [done, waiting] } });
  expect(res.body.data).toEqual({ action: "delete", affected: 1, limit: 500, results: [{ id: done, result: "deleted" }, { id: waiting, result: "not_finished" }] });
  expect(await queue.getStatus(done!)).toBeNull();
  expect((await queue.getStatus(waiting!))!.status).toBe("enqueued");
});

test("bulk by filter still retries dead / cancels waiting jobs of a type (no per-id answers)", async () => {
  const { call, queue, admin } = setup();
  queue.enqueueMany([{ type: "mail" }, { type: "mail" }, { type: "print" }]);
  const res = await call("POST", "/api/admin/jobs/bulk", { token: admin, body: { action: "cancel", type: "mail" } });
  expect(res.body.data).toEqual({ action: "cancel", affected: 2, limit: 500 });
});

test("a bad bulk body is refused with 422 and does nothing", async () => {
  const { call, queue, admin } = setup();
  const [id] = queue.enqueueMany([{ type: "noop" }]);
  const tooMany = Array.from({ length: 501 }, (_, i) => `01ID${String(i).padStart(22, "0")}`);
  for (const [body, field] of [
    [{ action: "cancel", ids: tooMany }, "ids"],
    [{ action: "cancel", ids: [] }, "ids"],
    [{ action: "cancel", ids: [id, id] }, "ids"],
    [{ action: "cancel", ids: [id], type: "noop" }, "ids"],
    [{ action: "delete" }, "ids"],
    [{ action: "explode", ids: [id] }, "action"],
    [{ action: "cancel", ids: [42] }, "ids.0"],
  ] as const) {
    const res = await call("POST", "/api/admin/jobs/bulk", { token: admin, body });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  }
  expect((await queue.getStatus(id!))!.status).toBe("enqueued");
});

test("the dashboard's routes are the admin's only", async () => {
  const { call, queue, clerk } = setup();
  const [id] = queue.enqueueMany([{ type: WEBHOOK_JOB, payload: { subscription: "db:x", event: { type: "order.created", id: "e1" } } }]);
  for (const [method, path, body] of [["POST", "/api/admin/jobs/bulk", { action: "cancel", ids: [id] }], ["GET", "/api/admin/webhook_deliveries"], ["POST", `/api/admin/webhook_deliveries/${id}/redeliver`]] as const) {
    expect((await call(method, path, { token: clerk, ...(body ? { body } : {}) })).status).toBe(403);
    expect((await call(method, path, body ? { body } : {})).status).toBe(401);
  }
  expect((await queue.getStatus(id!))!.status).toBe("enqueued");
});

test("webhook deliveries name their event and subscription; redeliver enqueues the same event again", async () => {
  const { call, queue, admin } = setup();
  const payload = { subscription: "db:sub1", event: { type: "order.created", id: "evt-1", data: { n: 1 } } };
  const [delivery] = queue.enqueueMany([{ type: WEBHOOK_JOB, queue: "hooks", payload, maxRetry: 7 }]);
  const [other] = queue.enqueueMany([{ type: "send_receipt" }]);
  const list = await call("GET", "/api/admin/webhook_deliveries?limit=5", { token: admin });
  expect(list.status).toBe(200);
  expect(list.body.data).toEqual([expect.objectContaining({ id: delivery, status: "enqueued", subscription: "db:sub1", event_type: "order.created", event_id: "evt-1", last_http_status: null, max_retry: 7 })]);
  expect((await call("GET", "/api/admin/webhook_deliveries?status=dead", { token: admin })).body.data).toEqual([]);
  expect((await call("GET", "/api/admin/webhook_deliveries?status=gone", { token: admin })).status).toBe(400);
  expect((await call("GET", "/api/admin/webhook_deliveries?limit=500", { token: admin })).status).toBe(400);

  const again = await call("POST", `/api/admin/webhook_deliveries/${delivery}/redeliver`, { token: admin });
  expect(again.status).toBe(202);
  const copy = (await queue.getStatus(again.body.data.job_id))!;
  expect(copy).toMatchObject({ type: WEBHOOK_JOB, queue: "hooks", payload, maxRetry: 7, status: "enqueued" });
  expect(copy.id).not.toBe(delivery);
  expect((await call("POST", `/api/admin/webhook_deliveries/${other}/redeliver`, { token: admin })).status).toBe(404);
  expect((await call("POST", "/api/admin/webhook_deliveries/nope/redeliver", { token: admin })).status).toBe(404);
});

test("a delivery's last HTTP status: the output's on success, else the newest refusal among its attempts, none without an answer", () => {
  expect(deliveryHttpStatus("succeeded", { status: 204, url: "http://x" }, ["receiver answered 503"])).toBe(204);
  expect(deliveryHttpStatus("failed", null, ["receiver answered 503"])).toBe(503);
  // The last attempt got no answer (the subscription was disabled): the one before did.
  expect(deliveryHttpStatus("dead", null, ["webhook subscription db:1 is not active", "receiver answered 410", "receiver answered 500"])).toBe(410);
  expect(deliveryHttpStatus("failed", null, ["Unable to connect. Is the computer able to access the url?"])).toBeNull();
  expect(deliveryHttpStatus("failed", null, ["receiver answered 5030 times"])).toBeNull();
  expect(deliveryHttpStatus("enqueued", null, [null])).toBeNull();
});
