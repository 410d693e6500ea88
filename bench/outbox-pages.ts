// How many SQLite pages the event outbox adds to a commit, for ways of storing the events
// (issue 19: the outbox's cost per order is pages written per commit, not CPU). Deterministic:
// it counts WAL frames (one per page written) with automatic checkpoints off, so it needs no
// lock and no quiet machine. Each commit writes one row of another table (to count only the
// outbox's pages: the figure printed is frames per commit minus that one) and `orders` orders'
// events, shaped like an order's four events in `serve` (~2,170 bytes of CloudEvents JSON):
// book.updated + order.created (the order's transaction), job.*.started, job.*.completed.
//
//   bun bench/outbox-pages.ts [--commits 6000] [--orders 1,2,16] [--delete-every 600]
//
// Layouts: "today" (one TEXT row per event; the relay deletes the sent prefix every
// --delete-every commits, ~1 s at c4), "deflate-1"/"deflate-6" (the same rows, each event
// deflated at that level), "row-per-tx-deflate" (one deflated row per transaction: the order's
// two events together), "no-delete" (today, never deleting: new pages from file growth, not
// the freelist; a lower bound, not a design) and "ring" (a fixed table of slots overwritten in
// place: no new pages, no freelist). Prints one JSON line.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { commits: { type: "string", default: "6000" }, orders: { type: "string", default: "1,2,16" }, "delete-every": { type: "string", default: "600" } } });
const COMMITS = Number(values.commits);
const ORDERS = values.orders.split(",").map(Number);
const DELETE_EVERY = Number(values["delete-every"]);
const RING_SLOTS = 16_384;

const id = () => "01M8" + Array.from({ length: 22 }, () => "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[Math.floor(Math.random() * 32)]).join("");
/** One order's events, grouped by the transaction that writes them. */
function orderEvents(): string[][] {
  const [order, user, book, job, time] = [id(), id(), id(), id(), new Date().toISOString()];
  const head = (type: string, visibility: string) => ({ specversion: "1.0", id: id(), source: "backroom", type, time, datacontenttype: "application/json", visibility });
  const jobData = { job_id: job, type: "send_receipt", attempts: 1, error: null, actor_id: user, tenant_id: null };
  return [
    [
      JSON.stringify({ ...head("book.updated", "all"), data: { id: book, title: "B", author: "B", price_cents: 100, stock: 999999997, status: "published", publish_at: null, created_at: time, updated_at: time }, subject: book }),
      JSON.stringify({ ...head("order.created", "owner"), data: { id: order, user_id: user, lines: [{ book_id: book, title: "B", quantity: 1, unit_price_cents: 100 }], total_cents: 100, status: "placed", created_at: time, updated_at: time }, subject: order, actorid: user }),
    ],
    [JSON.stringify({ ...head("job.send_receipt.started", "owner"), data: { ...jobData, status: "running", result: null }, subject: job, actorid: user })],
    [JSON.stringify({ ...head("job.send_receipt.completed", "owner"), data: { ...jobData, status: "succeeded", result: { output: { message_id: `<receipt-${order}@backroom.local>`, to: "ana@backroom.local" }, url: `file:///var/lib/backroom/outbox/receipt-${order}@backroom.local.eml`, mime: "message/rfc822" } }, subject: job, actorid: user })],
  ];
}

type Layout = "today" | "deflate-1" | "deflate-6" | "row-per-tx-deflate" | "no-delete" | "ring";
const LAYOUTS: Layout[] = ["today", "deflate-1", "deflate-6", "row-per-tx-deflate", "no-delete", "ring"];

function outboxFramesPerCommit(layout: Layout, ordersPerCommit: number): number {
  const dir = mkdtempSync(join(tmpdir(), "outbox-pages-"));
  const db = new Database(join(dir, "b.db"), { create: true });
  try {
    db.run("PRAGMA journal_mode = WAL");
    db.run("PRAGMA synchronous = OFF"); // frames are the same at FULL; only the fsyncs differ
    db.run("PRAGMA wal_autocheckpoint = 0");
    db.run("CREATE TABLE other (id INTEGER PRIMARY KEY, n INTEGER)");
    db.run("INSERT INTO other VALUES (1, 0)");
    db.run("CREATE TABLE event_outbox (seq INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, event NOT NULL)");
    const touchOther = db.prepare("UPDATE other SET n = n + 1");
    const insert = db.prepare("INSERT INTO event_outbox (seq, created_at, event) VALUES (?, ?, ?)");
    const overwrite = db.prepare("UPDATE event_outbox SET created_at = ?, event = ? WHERE seq = ?");
    const deleteUpTo = db.prepare("DELETE FROM event_outbox WHERE seq <= ?");
    if (layout === "ring") db.transaction(() => { for (let slot = 0; slot < RING_SLOTS; slot++) insert.run(slot, 0, "x".repeat(540)); })();
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    let seq = 0;
    const write = (events: string[]) => {
      if (layout === "row-per-tx-deflate") return void insert.run(++seq, Date.now(), Bun.deflateSync("[" + events.join(",") + "]", { level: 1 }));
      for (const event of events) {
        if (layout === "ring") overwrite.run(Date.now(), event, ++seq % RING_SLOTS);
        else if (layout === "deflate-1" || layout === "deflate-6") insert.run(++seq, Date.now(), Bun.deflateSync(event, { level: layout === "deflate-1" ? 1 : 6 }));
        else insert.run(++seq, Date.now(), event);
      }
    };
    // The transactions of `ordersPerCommit` orders share a commit (group commit).
    for (let commit = 0; commit < COMMITS; commit++) {
      db.transaction(() => {
        touchOther.run();
        for (let o = 0; o < ordersPerCommit; o++) for (const tx of orderEvents()) write(tx);
      })();
      const deletes = layout !== "ring" && layout !== "no-delete";
      if (deletes && commit % DELETE_EVERY === DELETE_EVERY - 1) db.transaction(() => void deleteUpTo.run(seq))();
    }
    const frames = statSync(join(dir, "b.db-wal")).size / (24 + 4096);
    return frames / COMMITS - 1;
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const result: Record<string, Record<string, number>> = {};
for (const orders of ORDERS) {
  const row: Record<string, number> = {};
  for (const layout of LAYOUTS) row[layout] = Math.round((outboxFramesPerCommit(layout, orders) / orders) * 1000) / 1000;
  result[`outbox_frames_per_order_at_${orders}_orders_per_commit`] = row;
}
console.log(JSON.stringify({ commits: COMMITS, delete_every: DELETE_EVERY, ...result }));
