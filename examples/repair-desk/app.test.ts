// The repair desk, tested as its users rely on it, with backroom/testing: no server, no disk,
// a clock that moves only when told.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "backroom/testing";
import { repairDesk } from "./app.ts";

let app: TestApp;
beforeEach(() => (app = createTestApp(repairDesk)));
afterEach(() => app.close());

const device = { customer_email: "ana@example.com", device: "Phone X", fault: "cracked screen" };

test("a check-in answers 202 with the ticket and its job, and the customer is mailed once the job runs", async () => {
  const desk = app.user("desk");
  const answer = await app.call("POST", "/api/check_ins", { token: desk.token, body: device });
  expect(answer.status).toBe(202);
  const { ticket_id, job_id } = answer.body.data;
  expect((await app.call("GET", `/api/job_statuses/${job_id}`, { token: desk.token })).body.data.status).toBe("enqueued");
  await app.drain();
  expect((await app.call("GET", `/api/job_statuses/${job_id}`, { token: desk.token })).body.data).toMatchObject({ status: "succeeded", max_retry: 5 });
  expect(app.mail).toEqual([expect.objectContaining({ to: "ana@example.com", subject: "We have your Phone X" })]);
  expect((await app.call("GET", `/api/tickets/${ticket_id}`, { token: desk.token })).body.data).toMatchObject({ status: "open", desk_user: desk.id });
});

test("a check-in with a bad e-mail is refused and leaves neither a ticket nor a job", async () => {
  const desk = app.user("desk");
  const answer = await app.call("POST", "/api/check_ins", { token: desk.token, body: { ...device, customer_email: "not an address" } });
  expect(answer.status).toBe(422);
  expect(answer.body.error.code).toBe("VALIDATION_ERROR");
  expect(await app.jobs()).toEqual([]);
  expect((await app.call("GET", "/api/tickets", { token: desk.token })).body.data).toEqual([]);
});

test("the morning summary counts the open tickets and mails the workshop", async () => {
  const desk = app.user("desk");
  for (let i = 0; i < 2; i++) await app.call("POST", "/api/check_ins", { token: desk.token, body: device });
  await app.drain();
  app.services.queue.enqueue({ type: "morning_summary" });
  await app.drain();
  expect((await app.jobs("morning_summary"))[0]).toMatchObject({ status: "succeeded", output: { open: 2 } });
  expect(app.mail.at(-1)).toMatchObject({ to: "workshop@repair.local", subject: "2 open tickets" });
});

test("a ticket export (a sandboxed job type) reads every ticket and answers with the CSV's size and digest", async () => {
  const desk = app.user("desk");
  for (const d of ["Phone X", 'Laptop "Pro", 14']) await app.call("POST", "/api/check_ins", { token: desk.token, body: { ...device, device: d } });
  const admin = app.user("boss", ["admin"]);
  const answer = await app.call("POST", "/api/exports", { token: admin.token });
  expect(answer.status).toBe(202);
  await app.drain();
  const status = (await app.call("GET", `/api/job_statuses/${answer.body.data.job_id}`, { token: admin.token })).body.data;
  expect(status).toMatchObject({ status: "succeeded", output: { tickets: 2, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  expect((await app.call("POST", "/api/exports", { token: desk.token })).status).toBe(403);
});
