// Store and forward: a till's jobs are written to its SQLite file with its orders, then moved
// to the shared PostgreSQL queue with their ids — against a real PostgreSQL when DATABASE_URL
// is set (.ci/run sets it).
import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { SQL } from "bun";
import { openDatabase, type Db, type Migration } from "../../src/db/index.ts";
import { keyOf, type ListQuery, type Scalar } from "../../src/db/list-query.ts";
import { ForwardingQueue } from "../../src/jobs/forwarding-queue.ts";
import { Forwarder } from "../../src/jobs/forwarder.ts";
import { PostgresQueue } from "../../src/jobs/postgres.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { engineUrl } from "../support/engines.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

const url = engineUrl("DATABASE_URL", "store-and-forward to PostgreSQL", "postgres://postgres@127.0.0.1:5432/test");
if (url) {
  const sql = new SQL(url, { max: 4 });
  afterAll(() => sql.close());
  const orders: Migration = { component: "test", version: 1, name: "orders", up: "CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)" };
  let n = 0;
  let tmp: ReturnType<typeof tempDir>;
  let db: Db;
  let outbox: SqliteQueue;
  let table: string;
  let remote: PostgresQueue;
  let queue: ForwardingQueue;
  let forwarder: Forwarder;
  const outboxRows = () => (db.sqlite.query("SELECT count(*) AS n FROM jobs WHERE status = 'enqueued'").get() as { n: number }).n;
  const pgRow = async (id: string) => ((await sql.unsafe(`SELECT * FROM ${table} WHERE id = $1`, [id])) as Record<string, unknown>[])[0];

  beforeEach(async () => {
    tmp = tempDir();
    db = openDatabase(tmp.file("till.db"), { migrations: [...jobsMigrations, orders] });
    outbox = new SqliteQueue(db);
    table = `fwd_${process.pid}_${++n}`;
    remote = new PostgresQueue({ sql, table, partition: "till-7" });
    await remote.migrate();
    queue = new ForwardingQueue(outbox, remote);
    forwarder = new Forwarder({ outbox, remote, pollMs: 50, minRetryMs: 10, maxRetryMs: 20 });
  });
  afterEach(async () => {
    await forwarder.stop();
    db.close();
    tmp.remove();
    await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
  });

  test("a job enqueued with an order moves to PostgreSQL with its id and fields, in the till's partition, and leaves the outbox", async () => {
    const at = Date.now() + 3_600_000;
    const id = db.transaction(() => {
      db.sqlite.run("INSERT INTO orders (total) VALUES (1250)");
      return queue.enqueue({ type: "send_receipt", payload: { order: 1 }, actorId: "ana", groupKey: "till-7", notBefore: at, priority: 3, headers: { h: "v" } });
    });
    expect((await queue.getStatus(id))?.status).toBe("enqueued"); // from the outbox, before forwarding
    expect(await forwarder.forwardOnce()).toBe(1);
    expect(outboxRows()).toBe(0);
    expect(await pgRow(id)).toMatchObject({ id, type: "send_receipt", status: "enqueued", actor_id: "ana", group_key: "till-7", run_at: at, priority: 3, partition_key: "till-7", headers: '{"h":"v"}' });
    expect(await queue.getStatus(id)).toMatchObject({ id, status: "enqueued", payload: { order: 1 }, runAt: at }); // now from PostgreSQL
    expect(await queue.nextDueAt(Date.now())).toBe(at);
  });

  test("jobs a run without forwarding left running in the file are forwarded too, their attempt not spent", async () => {
    const id = outbox.enqueue({ type: "t" });
    await outbox.settleAndClaim([], 10, 30_000); // a local worker took it, then the process died
    db.close();
    db = openDatabase(tmp.file("till.db"), { migrations: [...jobsMigrations, orders] }); // restarted, now forwarding
    outbox = new SqliteQueue(db);
    forwarder = new Forwarder({ outbox, remote });
    expect(outbox.getStatus(id)?.status).toBe("running");
    expect(await forwarder.forwardOnce()).toBe(1);
    expect(await pgRow(id)).toMatchObject({ status: "enqueued", attempts: 0 });
    expect(outboxRows()).toBe(0);
  });

  test("a rolled-back order forwards nothing", async () => {
    expect(() =>
      db.transaction(() => {
        db.sqlite.run("INSERT INTO orders (total) VALUES (1)");
        queue.enqueue({ type: "send_receipt" });
        throw new Error("payment declined");
      }),
    ).toThrow("payment declined");
    expect(await forwarder.forwardOnce()).toBe(0);
    expect(((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0]!.n).toBe(0);
  });

  test("the running forwarder moves new jobs at once, and a worker of the partition claims them", async () => {
    forwarder.start();
    const ids = queue.enqueueMany([{ type: "a" }, { type: "b" }]);
    await waitFor(async () => (await Promise.all(ids.map(pgRow))).every(Boolean), 5_000, "both jobs in PostgreSQL");
    const { claimed } = await remote.settleAndClaim([], 10, 30_000);
    expect(claimed.map((j) => j.id)).toEqual(ids);
  });

  test("while PostgreSQL is unreachable the jobs wait in the outbox, and are forwarded once it is back", async () => {
    let down = true;
    const adopt = remote.adopt.bind(remote);
    remote.adopt = (rows) => (down ? Promise.reject(new Error("connection refused")) : adopt(rows));
    forwarder.start();
    const id = queue.enqueue({ type: "send_receipt" });
    await waitFor(() => forwarder.failures >= 2, 5_000, "failed passes");
    expect(outboxRows()).toBe(1);
    expect((await queue.getStatus(id))?.status).toBe("enqueued");
    down = false;
    await waitFor(async () => Boolean(await pgRow(id)) && outboxRows() === 0, 5_000, "the job forwarded");
    expect(forwarder.failures).toBe(0);
  });

  test("forwarding twice (a crash between the PostgreSQL commit and the outbox delete) stores the job once", async () => {
    const id = queue.enqueue({ type: "t" });
    const rows = await outbox.outbox(10);
    expect(await remote.adopt(rows)).toEqual([id]);
    expect(await remote.adopt(rows)).toEqual([]); // the restarted forwarder's copy is skipped
    expect(await forwarder.forwardOnce()).toBe(1);
    expect(outboxRows()).toBe(0);
    expect(((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0]!.n).toBe(1);
  });

  test("a job cancelled while it is being forwarded is cancelled in PostgreSQL too, and never claimed", async () => {
    const id = queue.enqueue({ type: "t" });
    const adopt = remote.adopt.bind(remote);
    remote.adopt = async (rows) => {
      const stored = await adopt(rows);
      expect(await queue.cancel(id)).toBe("cancelled"); // lands between the copy and the delete
      return stored;
    };
    await forwarder.forwardOnce();
    expect((await pgRow(id))?.status).toBe("cancelled");
    expect((await remote.settleAndClaim([], 10, 30_000)).claimed).toEqual([]);
    expect((await queue.getStatus(id))?.status).toBe("cancelled");
  });

  test("cancel, retry and counts reach the job wherever it is", async () => {
    const waiting = queue.enqueue({ type: "t", notBefore: Date.now() + 60_000 });
    expect(await queue.cancel(waiting)).toBe("cancelled"); // still in the outbox
    const forwarded = queue.enqueue({ type: "t", notBefore: Date.now() + 60_000 });
    await forwarder.forwardOnce();
    expect(await queue.cancel(forwarded)).toBe("cancelled"); // in PostgreSQL
    expect(await queue.cancel("01ARZ3NDEKTSV4RRFFQ69G5FAV")).toBe("not_found");
    queue.enqueue({ type: "u" });
    const counts = await queue.stateCounts();
    expect(counts).toContainEqual({ status: "cancelled", type: "t", n: 2 });
    expect(counts).toContainEqual({ status: "enqueued", type: "u", n: 1 });
  });

  test("listings merge the jobs still in the outbox with PostgreSQL's, in order and paged, each job once", async () => {
    const later = Date.now() + 60_000;
    const forwarded = [1, 2, 3].map(() => queue.enqueue({ type: "t", notBefore: later }));
    expect(await forwarder.forwardOnce()).toBe(3);
    const waiting = [1, 2].map(() => queue.enqueue({ type: "t", notBefore: later }));
    const caught = queue.enqueue({ type: "t", notBefore: later });
    await remote.adopt((await outbox.outbox(10)).filter((r) => r.id === caught)); // copied, not yet deleted
    const all = [...forwarded, ...waiting, caught].sort().reverse();
    const page = (offset: number, limit: number) => queue.listStatuses({ where: [[{ field: "type", op: "eq", value: "t" }]], sort: [{ field: "id", direction: "desc" }], limit, offset });
    const first = await page(0, 4);
    expect(first.total).toBe(6);
    expect(first.rows.map((r) => r.id)).toEqual(all.slice(0, 4));
    expect((await page(4, 4)).rows.map((r) => r.id)).toEqual(all.slice(4));
    expect((await page(2, 2)).rows.map((r) => r.id)).toEqual(all.slice(2, 4));
    await forwarder.forwardOnce(); // the outbox empty again: PostgreSQL's page as it is
    expect((await page(1, 3)).rows.map((r) => r.id)).toEqual(all.slice(1, 4));
  });

  test("keyset pages over the outbox and PostgreSQL together skip and repeat no job while jobs are enqueued and forwarded between pages", async () => {
    const later = Date.now() + 60_000;
    let n = 0;
    const enqueueOne = () => queue.enqueue({ type: "t", notBefore: later, groupKey: n++ % 3 === 0 ? undefined : `g${n % 4}` });
    for (let i = 0; i < 6; i++) enqueueOne();
    expect(await forwarder.forwardOnce()).toBe(6);
    for (let i = 0; i < 5; i++) enqueueOne(); // a forwarding backlog: these are still in the outbox
    const sorts: ListQuery["sort"][] = [[], [{ field: "created_at", direction: "desc" }], [{ field: "group_key", direction: "asc" }], [{ field: "group_key", direction: "desc" }]];
    for (const sort of sorts) {
      const listAll = async () => (await queue.listStatuses({ where: [], sort, limit: 1_000, offset: 0 })).rows.map((r) => r.id as string);
      const before = await listAll();
      const seen: string[] = [];
      let after: Scalar[] | undefined;
      for (let page = 0; page < 100; page++) {
        const { rows } = await queue.listStatuses({ where: [], sort, limit: 3, offset: 0, after, skipTotal: true });
        seen.push(...rows.map((r) => r.id as string));
        if (rows.length < 3) break;
        after = keyOf(rows.at(-1)!, { sort });
        enqueueOne();
        if (page % 2 === 1) await forwarder.forwardOnce(); // jobs move from the outbox to PostgreSQL mid-walk
      }
      const label = JSON.stringify(sort);
      expect({ label, repeated: seen.length - new Set(seen).size }).toEqual({ label, repeated: 0 });
      expect({ label, skipped: before.filter((id) => !seen.includes(id)) }).toEqual({ label, skipped: [] });
      expect({ label, seen }).toEqual({ label, seen: (await listAll()).filter((id) => seen.includes(id)) });
    }
  });

  test("a job's named queue moves with it; a pause set through the till holds in PostgreSQL; queue states count the outbox too", async () => {
    await queue.setQueuePaused("mail", true);
    const mail = queue.enqueue({ type: "t", queue: "mail" });
    const plain = queue.enqueue({ type: "t" });
    const held = queue.enqueue({ type: "t", queue: "mail", notBefore: Date.now() + 60_000 });
    expect(await queue.cancel(held)).toBe("cancelled"); // cancelled in the outbox, never forwarded
    expect((await queue.queueStates()).find((q) => q.name === "mail")).toMatchObject({ paused: true, counts: { enqueued: 1, cancelled: 1 } });
    expect(await forwarder.forwardOnce()).toBe(2);
    expect(await pgRow(mail)).toMatchObject({ queue: "mail" });
    expect((await remote.settleAndClaim([], 10, 30_000)).claimed.map((j) => j.id)).toEqual([plain]);
    await queue.setQueuePaused("mail", false);
    expect((await remote.settleAndClaim([], 10, 30_000)).claimed.map((j) => [j.id, j.queue])).toEqual([[mail, "mail"]]);
    expect((await queue.queueStates()).find((q) => q.name === "mail")).toMatchObject({ paused: false, counts: { running: 1, cancelled: 1 } });
    expect(await queue.delete(held)).toBe("deleted"); // from the outbox
    expect(await queue.delete(mail)).toBe("not_finished"); // running, in PostgreSQL
  });

  test("a partition claims only its own jobs; reads see every partition", async () => {
    const other = new PostgresQueue({ sql, table, partition: "till-8" });
    const mine = await remote.enqueue({ type: "t" });
    const theirs = await other.enqueue({ type: "t" });
    expect((await remote.settleAndClaim([], 10, 30_000)).claimed.map((j) => j.id)).toEqual([mine]);
    expect((await other.settleAndClaim([], 10, 30_000)).claimed.map((j) => j.id)).toEqual([theirs]);
    expect((await remote.getStatus(theirs))?.status).toBe("running");
    expect((await remote.listStatuses({ where: [], sort: [], limit: 10, offset: 0 })).total).toBe(2);
  });
}
