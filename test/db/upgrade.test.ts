// A file written by the first release (test/db/fixtures/v1.sql: every component at schema
// version 1, with users, books, orders, jobs in each state, a schedule, a webhook subscription
// and an idempotency key) opens with today's migrations: every component is brought to its
// latest version in place, nothing in it is lost, and the app and the worker carry on with it.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue } from "../../src/jobs/sqlite.ts";
import { Worker } from "../../src/jobs/worker.ts";
import { silentLogger } from "../../src/log.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { request } from "../api/support.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.remove());

function v1File(): string {
  const path = tmp.file("till-v1.db");
  const raw = new Database(path, { create: true });
  raw.exec(readFileSync("test/db/fixtures/v1.sql", "utf8"));
  raw.close();
  return path;
}

const ANA = "01JXV1USERANA0000000000A02";

test("every component's migrations upgrade a file written by the first release, in place, losing nothing", () => {
  const path = v1File();
  const db = openDatabase(path, { migrations: storeMigrations });
  const latest = new Map<string, number>();
  for (const m of storeMigrations) latest.set(m.component, Math.max(latest.get(m.component) ?? 0, m.version));
  const applied = db.sqlite.query("SELECT component, max(version) AS version FROM backroom_schema GROUP BY component ORDER BY component").all();
  expect(applied).toEqual([...latest].sort(([a], [b]) => a.localeCompare(b)).map(([component, version]) => ({ component, version })));
  expect(db.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
  expect(db.sqlite.query("PRAGMA foreign_key_check").all()).toEqual([]);
  const count = (table: string) => (db.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  expect({ users: count("users"), books: count("books"), orders: count("orders"), jobs: count("jobs"), schedules: count("schedules"), webhooks: count("webhook_subscriptions"), keys: count("idempotency_keys") })
    .toEqual({ users: 2, books: 2, orders: 2, jobs: 4, schedules: 1, webhooks: 1, keys: 1 });
  const jobs = db.sqlite.query("SELECT id, status, attempts, group_key, error FROM jobs ORDER BY id").all();
  expect(jobs).toEqual([
    { id: "01JXV1J0B00000000000000J01", status: "succeeded", attempts: 1, group_key: null, error: null },
    { id: "01JXV1J0B00000000000000J02", status: "enqueued", attempts: 0, group_key: null, error: null },
    { id: "01JXV1J0B00000000000000J03", status: "failed", attempts: 1, group_key: "head-office", error: "timeout" },
    { id: "01JXV1J0B00000000000000J04", status: "running", attempts: 1, group_key: null, error: null },
  ]);
  // Named queues (jobs v3): every old job is in the default queue, counted, succeeded ones too.
  // Stored as '' (jobs v5), read as its name.
  expect(db.sqlite.query("SELECT DISTINCT queue FROM jobs").all()).toEqual([{ queue: "" }]);
  expect(db.sqlite.query("SELECT DISTINCT queue FROM job_statuses").all()).toEqual([{ queue: "default" }]);
  expect(new SqliteQueue(db).queueStates()).toEqual([{ name: "default", paused: false, counts: { enqueued: 1, running: 1, succeeded: 1, failed: 1, dead: 0, cancelled: 0 } }]);
  db.close();
  // Opening again applies nothing more.
  const again = openDatabase(path, { migrations: storeMigrations });
  expect(again.sqlite.query("SELECT count(*) AS n FROM backroom_schema").get()).toEqual({ n: storeMigrations.length });
  again.close();
});

test("after the upgrade the app serves the old rows and the worker runs the old jobs", async () => {
  const path = v1File();
  const db = openDatabase(path, { migrations: storeMigrations });
  const queue = new SqliteQueue(db);
  const store = createStoreApp({ db, queue, mailer: createMailer({ from: "till@backroom.local", outbox: tmp.file("outbox") }), logger: silentLogger });
  const call = request(store.app);
  const token = store.services.tokens.issue(ANA, "after the upgrade").token;
  const books = (await call("GET", "/api/books?sort=title")).body.data as { id: string; title: string; stock: number }[];
  expect(books.map((b) => [b.title, b.stock])).toEqual([["Emma", 4], ["Persuasion", 0]]);
  const orders = (await call("GET", "/api/orders", { token })).body.data as { id: string; total_cents: number }[];
  expect(orders.map((o) => [o.id, o.total_cents]).sort()).toEqual([["01JXV10RDER000000000000R01", 1250], ["01JXV10RDER000000000000R02", 1980]]);
  expect((await call("GET", "/api/job_statuses/01JXV1J0B00000000000000J02", { token })).body.data).toMatchObject({ status: "enqueued" });
  const worker = new Worker({ source: queue, handlers: store.handlers, logger: silentLogger, backoff: { baseMs: 5, jitter: 0 } }).start();
  try {
    await waitFor(() => queue.getStatus("01JXV1J0B00000000000000J02")?.status === "succeeded", 10_000, "the old order's receipt");
    // A new order on the upgraded file, through the whole path.
    const placed = await call("POST", "/api/orders", { token, body: { lines: [{ book_id: books[0]!.id, quantity: 1 }] } });
    expect(placed.status).toBe(202);
    await waitFor(() => queue.getStatus(placed.body.data.job_id)?.status === "succeeded", 10_000, "the new order's receipt");
  } finally {
    await worker.shutdown(1_000);
    db.close();
  }
});
