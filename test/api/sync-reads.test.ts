// Reads are composed by Elysia as plain functions (no promise per request: sync-route.ts and
// the order of routes in app.ts), and still wait for an open group-commit batch before answering.
import { expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue } from "../../src/jobs/sqlite.ts";
import { jobStatusToJson } from "../../src/api/job-status-routes.ts";
import { attemptHistoryOf } from "../../src/jobs/rows.ts";
import { stateToStatusRow } from "../../src/jobs/status-columns.ts";
import { silentLogger } from "../../src/log.ts";
import { createMailer } from "../../src/runtime/mailer.ts";
import { createStoreApp, storeMigrations } from "../../src/store/app.ts";
import { tempDir } from "../support/temp.ts";

function store(groupCommit = {}) {
  const tmp = tempDir();
  const db = openDatabase(tmp.file("shop.db"), { migrations: storeMigrations, groupCommit });
  const app = createStoreApp({ db, queue: new SqliteQueue(db), mailer: createMailer({ from: "t@b.l", outbox: tmp.file("outbox") }), logger: silentLogger });
  app.seed();
  return { db, app, close: () => (db.close(), tmp.remove()) };
}

test("list and point reads are composed without a promise; writes keep the JSON body parser", () => {
  const { app, close } = store();
  try {
    const compiled = app.app as unknown as { compile(): void; routes: { method: string; path: string; compile(): Function }[] };
    compiled.compile();
    const kind = (method: string, path: string) => compiled.routes.find((r) => r.method === method && r.path === path)!.compile().constructor.name;
    expect([kind("GET", "/api/books"), kind("GET", "/api/books/:id"), kind("GET", "/api/job_statuses/:id")]).toEqual(["Function", "Function", "Function"]);
    expect(kind("POST", "/api/books")).toBe("AsyncFunction");
    expect(String(compiled.routes.find((r) => r.method === "POST" && r.path === "/api/books")!.compile())).toContain("e.parse[0]");
  } finally {
    close();
  }
});

test("a sync read served while a group-commit batch is open is answered only after that commit, with its rows", async () => {
  const { db, app, close } = store({ windowMs: 1_500, maxBatch: 1_000 });
  try {
    const order: string[] = [];
    const write = db.write(() => db.sqlite.run("UPDATE books SET stock = stock + 1")).then(() => order.push("committed"));
    const read = app.app.handle(new Request("http://localhost/api/books?limit=2")).then(async (res) => order.push(`answered ${res.status} ${((await res.json()) as { data: unknown[] }).data.length}`));
    await Promise.all([write, read]);
    expect(order).toEqual(["committed", "answered 200 2"]);
  } finally {
    close();
  }
});

test("a point read's stored row serializes as the job's state does, for its owner and for an admin", async () => {
  const { db, close } = store();
  try {
    const queue = new SqliteQueue(db);
    const id = queue.enqueue({ type: "t", payload: { big: "x".repeat(100) }, actorId: "u1" });
    const [job] = (await queue.settleAndClaim([], 1, 60_000)).claimed;
    await queue.settleAndClaim([{ kind: "failed", job: job!, error: "ENOTDIR: /srv/x", stack: "at x", retryAt: Date.now() + 60_000, at: Date.now() }], 0, 60_000);
    db.sqlite.run("UPDATE jobs SET result_url = 'file:///srv/out.eml', output = ? WHERE id = ?", [JSON.stringify({ n: 1, list: ["a"] }), id]);
    const record = queue.getStatusRecord(id)!;
    const state = queue.getStatus(id)!;
    expect(record).not.toHaveProperty("payload");
    for (const admin of [false, true]) expect(jobStatusToJson(record, admin)).toEqual(jobStatusToJson(stateToStatusRow(state), admin));
    expect(jobStatusToJson(record, true)).toMatchObject({ error: "ENOTDIR: /srv/x", result_url: "file:///srv/out.eml", output: { n: 1, list: ["a"] } });
    expect(attemptHistoryOf(record)).toEqual(state.attemptsHistory);
    expect(state.attemptsHistory.map((a) => [a.outcome, a.error])).toEqual([["failed", "ENOTDIR: /srv/x"]]);
    expect(queue.getStatusRecord("nope")).toBeNull();
  } finally {
    close();
  }
});
