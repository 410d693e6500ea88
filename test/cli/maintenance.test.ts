// The operator's commands: each for success and for its error messages.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue } from "../../src/jobs/sqlite.ts";
import { storeMigrations } from "../../src/store/app.ts";
import { killChildren, spawnBun } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

let tmp: ReturnType<typeof tempDir>;
let db: string;
beforeEach(() => {
  tmp = tempDir();
  db = tmp.file("shop.db");
});
afterEach(async () => {
  await killChildren();
  tmp.remove();
});

const run = (...args: string[]) => {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BACKROOM_DB: db } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

function seedJobs() {
  const d = openDatabase(db, { migrations: storeMigrations });
  const q = new SqliteQueue(d);
  const waiting = q.enqueue({ type: "send_receipt" });
  const old = q.enqueue({ type: "report" });
  d.sqlite.run("UPDATE jobs SET status = 'dead', error = 'smtp down', completed_at = ? WHERE id = ?", [Date.now() - 30 * 86_400_000, old]);
  d.close();
  return { waiting, old };
}

test("migrate creates or updates the schema and says so", () => {
  const r = run("migrate");
  expect(r.code).toBe(0);
  expect(r.out).toContain("schema is current (api 1, cron 1, events 2, jobs 5");
});

test("jobs list, show, retry, cancel and purge", () => {
  const { waiting, old } = seedJobs();
  const list = run("jobs", "list");
  expect(list.out).toContain(waiting);
  expect(list.out).toContain("2 of 2 job(s)");
  expect(run("jobs", "list", "--status", "dead").out).toContain("smtp down");
  expect(JSON.parse(run("jobs", "show", waiting).out)).toMatchObject({ id: waiting, status: "enqueued" });
  expect(run("jobs", "show", "nope")).toMatchObject({ code: 1, err: "backroom: no job nope\n" });
  expect(run("jobs", "retry", waiting)).toMatchObject({ code: 1, err: expect.stringContaining("is not dead") });
  expect(run("jobs", "retry", old)).toMatchObject({ code: 0, out: expect.stringContaining("queued again") });
  expect(run("jobs", "cancel", waiting)).toMatchObject({ code: 0, out: expect.stringContaining("cancelled") });
  expect(run("jobs", "cancel", waiting)).toMatchObject({ code: 1, err: expect.stringContaining("already finished") });
  const d = openDatabase(db, { migrations: storeMigrations });
  d.sqlite.run("UPDATE jobs SET completed_at = ? WHERE id = ?", [Date.now() - 30 * 86_400_000, waiting]);
  d.close();
  const purge = run("jobs", "purge", "--older-than-days", "7");
  expect(purge.code).toBe(0);
  expect(purge.out).toBe("purged 1 job(s)\n");
  expect(purge.err).toContain("1 deleted");
  expect(run("jobs", "frobnicate").code).toBe(2);
});

test("queues list, pause and resume: the state is kept in the file; bad names and missing arguments are usage errors", () => {
  const d = openDatabase(db, { migrations: storeMigrations });
  const q = new SqliteQueue(d);
  q.enqueueMany([{ type: "send_receipt", queue: "mail" }, { type: "send_receipt", queue: "mail" }, { type: "report" }]);
  d.close();
  const list = run("queues", "list");
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/^default +running +pool +enqueued 1 {2}running 0/m);
  expect(list.out).toMatch(/^mail +running +pool +enqueued 2 /m);
  expect(list.out).toContain("2 queue(s)");
  expect(run("queues", "pause", "mail")).toMatchObject({ code: 0, out: expect.stringContaining("queue mail paused") });
  expect(JSON.parse(run("queues", "list", "--json").out)).toContainEqual({ name: "mail", paused: true, concurrency: null, running: 0, counts: { enqueued: 2, running: 0, succeeded: 0, failed: 0, dead: 0, cancelled: 0 }, rate_limit: null });
  // Kept in the file: the queue a server opens on it claims none of mail's jobs.
  const reopened = openDatabase(db, { migrations: storeMigrations });
  const claimed = new SqliteQueue(reopened).settleAndClaim([], 10, 30_000);
  reopened.close();
  return claimed.then(({ claimed }) => {
    expect(claimed.map((j) => j.queue)).toEqual(["default"]);
    expect(run("queues", "resume", "mail")).toMatchObject({ code: 0, out: expect.stringContaining("queue mail resumed") });
    expect(run("queues", "list").out).toMatch(/^mail +running /m);
    for (const args of [["queues"], ["queues", "frobnicate"], ["queues", "pause"], ["queues", "pause", "Mail Queue"]]) expect(run(...args).code).toBe(2);
    expect(run("queues", "pause", "Mail").err).toContain('"Mail" is not a queue name');
  });
});

test("schedules list, backup and doctor", () => {
  run("migrate");
  expect(run("schedules", "list").out).toContain("0 schedule(s)");
  const target = tmp.file("copy.db");
  const backup = run("backup", target);
  expect(backup.code).toBe(0);
  expect(existsSync(target)).toBe(true);
  const copy = openDatabase(target, { readonly: true });
  expect(copy.sqlite.query("SELECT count(*) AS n FROM backroom_schema").get()).toMatchObject({ n: expect.any(Number) });
  copy.close();
  expect(run("backup", target)).toMatchObject({ code: 1, err: expect.stringContaining("already exists") });
  expect(run("backup")).toMatchObject({ code: 2, err: expect.stringContaining("usage: backroom backup <file>") });
  const doctor = run("doctor");
  expect(doctor.code).toBe(0);
  expect(doctor.out).toMatch(/ok {4}integrity/);
  expect(doctor.out).toMatch(/ok {4}disk space/);
  const unreachable = run("doctor", "--smtp", "smtp://127.0.0.1:1");
  expect(unreachable.code).toBe(1);
  expect(unreachable.out).toMatch(/FAIL {2}SMTP/);
  const missing = Bun.spawnSync([process.execPath, "src/main.ts", "doctor", "--db", tmp.file("none.db")], { stdout: "pipe", stderr: "pipe" });
  expect(missing.exitCode).toBe(1);
  expect(missing.stdout.toString()).toMatch(/FAIL {2}database file +.*does not exist/);
});

test("backup works while the server runs; changes are refused until it stops", async () => {
  const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", db, "--log-level", "error"]);
  try {
    await server.waitForLine(/^Backroom listening/);
    expect(run("backup", tmp.file("live.db")).code).toBe(0);
    expect(run("jobs", "list").code).toBe(0);
    expect(run("jobs", "purge")).toMatchObject({ code: 1, err: expect.stringContaining("already in use by another Backroom process") });
    expect(run("queues", "list").code).toBe(0);
    expect(run("queues", "pause", "mail")).toMatchObject({ code: 1, err: expect.stringContaining("already in use by another Backroom process") });
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
});

test("settings: flags beat the environment, which beats the config file; print-config masks secrets", () => {
  const config = tmp.file("backroom.json");
  writeFileSync(config, JSON.stringify({ port: 9000, sync: "normal", smtp: "smtp://till:s3cret@mail.local:587", concurrency: 3 }));
  const r = Bun.spawnSync([process.execPath, "src/main.ts", "serve", "--config", config, "--print-config", "--concurrency", "5"], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BACKROOM_PORT: "7000" } });
  expect(r.exitCode).toBe(0);
  const printed = JSON.parse(r.stdout.toString());
  expect(printed).toMatchObject({ port: 7000, sync: "normal", concurrency: 5, smtp: "smtp://till:***@mail.local:587" });
  writeFileSync(config, JSON.stringify({ prot: 1 }));
  expect(run("serve", "--config", config, "--print-config")).toMatchObject({ code: 2, err: expect.stringContaining('unknown setting "prot"') });
  writeFileSync(config, "{nope");
  expect(run("serve", "--config", config)).toMatchObject({ code: 2, err: expect.stringContaining("not valid JSON") });
});

test("a backup taken while orders are being written is consistent: integrity ok, and every order in it has its receipt job", async () => {
  const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", db, "--dev", "--log-level", "error"]);
  const base = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Backroom listening on /, 30_000))![1]!;
  const admin = { authorization: "Bearer dev-admin-token", "content-type": "application/json" };
  const ana = { authorization: "Bearer dev-ana-token", "content-type": "application/json" };
  const book = ((await (await fetch(`${base}/api/books`, { method: "POST", headers: admin, body: JSON.stringify({ title: "Load", author: "L", price_cents: 1, stock: 1_000_000 }) })).json()) as { data: { id: string } }).data;
  let stop = false;
  let placed = 0;
  const clients = Array.from({ length: 6 }, async () => {
    while (!stop) {
      const res = await fetch(`${base}/api/orders`, { method: "POST", headers: ana, body: JSON.stringify({ lines: [{ book_id: book.id, quantity: 1 }] }) });
      if (res.status === 202) placed++;
      else throw new Error(`order refused during the backup: ${res.status} ${await res.text()}`);
    }
  });
  try {
    const backups: string[] = [];
    for (let i = 0; i < 3; i++) {
      const before = placed;
      await waitFor(() => placed >= before + 20, 20_000, "orders being written");
      const target = tmp.file(`during-${i}.db`);
      // Asynchronously: the clients keep writing while the backup runs.
      const backup = spawnBun("src/main.ts", ["backup", target, "--db", db]);
      expect(await backup.proc.exited).toBe(0);
      backups.push(target);
    }
    stop = true;
    await Promise.all(clients);
    let previous = 0;
    for (const file of backups) {
      const copy = openDatabase(file, { readonly: true, migrations: storeMigrations });
      expect(copy.sqlite.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      expect(copy.sqlite.query("PRAGMA foreign_key_check").all()).toEqual([]);
      const orders = (copy.sqlite.query("SELECT count(*) AS n FROM orders").get() as { n: number }).n;
      const orphans = copy.sqlite.query(`
        SELECT o.id FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.type = 'send_receipt' AND json_extract(j.payload, '$.order_id') = o.id)`).all();
      const strayJobs = copy.sqlite.query(`
        SELECT j.id FROM jobs j
        WHERE j.type = 'send_receipt' AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = json_extract(j.payload, '$.order_id'))`).all();
      copy.close();
      expect(orders).toBeGreaterThan(previous); // each copy was taken later, under load
      expect(orphans).toEqual([]);
      expect(strayJobs).toEqual([]);
      previous = orders;
    }
  } finally {
    stop = true;
    await Promise.allSettled(clients);
  }
}, 90_000);
