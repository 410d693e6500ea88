// Schedules over REST: admins only, with our envelope for bad expressions and unknown names.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ManualClock } from "../../src/clock.ts";
import { Scheduler } from "../../src/cron/scheduler.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";
import { waitFor } from "../support/wait.ts";

let store: StoreFixture;
let scheduler: Scheduler;
let call: ReturnType<typeof request>;
let admin: string;
let ana: string;
beforeEach(() => {
  store = storeFixture();
  scheduler = new Scheduler({ db: store.db, queue: store.queue, logger: silentLogger });
  const app = createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("outbox") }), logger: silentLogger, scheduler });
  scheduler.declare(app.schedules);
  call = request(app.app);
  admin = store.users.admin.token;
  ana = store.users.ana.token;
});
afterEach(() => store.close());

test("admins list the declared schedules with their next fire time; other users get 403, anonymous 401", async () => {
  const list = await call("GET", "/api/schedules", { token: admin });
  expect(list.status).toBe(200);
  expect(list.body.data.map((s: any) => s.name)).toEqual(["daily_report", "retention"]);
  expect(list.body.data[0]).toMatchObject({ schedule: "55 23 * * *", type: "daily_report", catch_up: "all", paused: false, declared: true, next_fire_at: expect.stringMatching(/Z$/) });
  expect((await call("GET", "/api/schedules", { token: ana })).status).toBe(403);
  expect((await call("GET", "/api/schedules")).status).toBe(401);
});

test("create, change, pause, resume, run now and delete a schedule", async () => {
  const created = await call("POST", "/api/schedules", { token: admin, body: { name: "sync", schedule: "*/5 * * * *", type: "sync_inventory", payload: { store: 7 }, timezone: "Europe/Berlin" } });
  expect(created.status).toBe(201);
  expect(created.body.data).toMatchObject({ name: "sync", catch_up: "skip", declared: false, timezone: "Europe/Berlin" });
  expect((await call("POST", "/api/schedules", { token: admin, body: { name: "sync", schedule: "@daily", type: "x" } })).status).toBe(409);
  const changed = await call("PATCH", "/api/schedules/sync", { token: admin, body: { schedule: "@hourly", catch_up: "none" } });
  expect(changed.body.data).toMatchObject({ schedule: "@hourly", catch_up: "none" });
  expect((await call("POST", "/api/schedules/sync/pause", { token: admin })).body.data.paused).toBe(true);
  expect((await call("POST", "/api/schedules/sync/resume", { token: admin })).body.data.paused).toBe(false);
  const run = await call("POST", "/api/schedules/sync/run", { token: admin });
  expect(run.status).toBe(202);
  expect((await store.queue.getStatus(run.body.data.job_id))?.type).toBe("sync_inventory");
  expect((await call("DELETE", "/api/schedules/sync", { token: admin })).status).toBe(204);
  expect((await call("GET", "/api/schedules/sync", { token: admin })).status).toBe(404);
  expect((await call("POST", "/api/schedules/sync/run", { token: admin })).status).toBe(404);
});

test("invalid expressions, timezones and fields are a 4xx with the envelope, and nothing is stored", async () => {
  const bad = await call("POST", "/api/schedules", { token: admin, body: { name: "x", schedule: "61 * * * *", type: "t" } });
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatchObject({ code: "INVALID_SCHEDULE", details: [{ field: "schedule", message: expect.stringContaining("minute") }] });
  const zone = await call("POST", "/api/schedules", { token: admin, body: { name: "x", schedule: "@daily", type: "t", timezone: "Mars/Olympus" } });
  expect(zone.status).toBe(400);
  expect(zone.body.error.details[0].field).toBe("timezone");
  const policy = await call("POST", "/api/schedules", { token: admin, body: { name: "x", schedule: "@daily", type: "t", catch_up: "later" } });
  expect(policy.status).toBe(422);
  const patch = await call("PATCH", "/api/schedules/retention", { token: admin, body: { schedule: "every tuesday" } });
  expect(patch.status).toBe(400);
  expect(scheduler.find("x")).toBeNull();
  expect(scheduler.find("retention")?.schedule).toBe("17 * * * *");
});

test("the ticker fires on time with the real clock, and stops cleanly", async () => {
  scheduler.create({ name: "every-second", schedule: "* * * * * *", type: "tick", timezone: "UTC" });
  scheduler.start();
  const count = () => (store.db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE type = 'tick'").get() as { n: number }).n;
  await waitFor(() => count() >= 2, 5_000, "two ticks");
  scheduler.stop();
  const after = count();
  await Bun.sleep(1_200);
  expect(count()).toBe(after);
});

test("the daily report mails the day's orders and revenue", async () => {
  const [book] = store.books();
  await call("POST", "/api/orders", { token: ana, body: { lines: [{ book_id: book!.id, quantity: 2 }] } });
  const jobId = scheduler.runNow("daily_report");
  store.startWorker();
  await waitFor(async () => (await store.queue.getStatus(jobId))?.status === "succeeded");
  const state = (await store.queue.getStatus(jobId))!;
  expect(state.output).toMatchObject({ orders: 1, revenue_cents: 2 * (book!.price_cents as number) });
  expect(readFileSync(fileURLToPath(state.resultUrl!), "utf8")).toContain("To: manager@backroom.local");
});

test("retention deletes old finished jobs and idempotency keys, keeps recent, unfinished and (longer) dead ones", async () => {
  const clock = new ManualClock(Date.now() - 40 * 86_400_000);
  const { SqliteQueue } = await import("../../src/jobs/sqlite.ts");
  const old = new SqliteQueue(store.db, { clock });
  const oldDone = old.enqueue({ type: "t" });
  const oldDead = old.enqueue({ type: "t" });
  const oldWaiting = old.enqueue({ type: "t" });
  const claimed = (await old.settleAndClaim([], 2, 1_000)).claimed;
  await old.settleAndClaim([{ kind: "succeeded", job: claimed[0]!, result: {}, at: clock.now() }, { kind: "dead", job: claimed[1]!, error: "x", at: clock.now() + 15 * 86_400_000 }], 0, 1_000);
  const recent = store.queue.enqueue({ type: "t" });
  store.db.sqlite.run("INSERT INTO idempotency_keys (user_id, key, request_hash, status, response, created_at) VALUES ('u', 'old', 'h', 202, '{}', ?)", [Date.now() - 72 * 3_600_000]);
  const jobId = store.queue.enqueue({ type: "prune_finished" });
  const worker = new Worker({ source: store.queue, handlers: createStoreApp({ db: store.db, queue: store.queue, mailer: createMailer({ from: "t@b.l", outbox: store.tmp.file("o") }), logger: silentLogger }).handlers, logger: silentLogger, backoff: { baseMs: 5 } }).start();
  await waitFor(async () => (await store.queue.getStatus(jobId))?.status === "succeeded");
  expect((await store.queue.getStatus(jobId))?.output).toEqual({ jobs_deleted: 1, idempotency_keys_deleted: 1 });
  expect(await store.queue.getStatus(oldDone)).toBeNull();
  expect((await store.queue.getStatus(oldDead))?.status).toBe("dead"); // 25 days old: kept for 30
  expect(await store.queue.getStatus(oldWaiting)).not.toBeNull();
  expect(await store.queue.getStatus(recent)).not.toBeNull();
  await worker.shutdown();
});
