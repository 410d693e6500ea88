// How many SQLite pages the event outbox adds to a commit, for ways of storing the events
// (issue 19: the outbox's cost per order is pages written per commit, not CPU). Deterministic:
// it counts WAL frames (one per page written) with automatic checkpoints off, so it needs no
// lock and no quiet machine. Each commit writes one row of another table (to count only the
// outbox's pages: the figure printed is frames per commit minus that one) and `orders` orders'
// events, shaped like an order's four events in `serve` (~2,170 bytes of CloudEvents JSON):
// book.updated + order.created (the order's transaction), job.*.started, job.*.completed.
//
//   bun bench/outbox-pages.ts [--commits 6000] [--orders 1,2,4,16] [--delete-every 600] [--ring-slots 4096]
//
// Layouts: "insert-delete" (one TEXT row per event, the layout before the ring; the relay
// deletes the sent prefix every --delete-every commits, ~1 s at c4), "insert-delete-rare" (the
// same, deleting 10 times less often), "deflate-1"/"deflate-6" (the same rows, each event
// deflated at that level), "row-per-tx-deflate" (one deflated row per transaction: the order's
// two events together), "no-delete" (never deleting: new pages from file growth, not the
// freelist; a lower bound, not a design) and "ring" (what src/events/outbox.ts does: a fixed
// table of --ring-slots slots overwritten in place — no new pages, no freelist — and instead of
// a delete, the relay's one-row high-water mark updated every --delete-every commits).
// Prints one JSON line: per layout and batch, the outbox's frames per order in all, and the
// part of them the relay's own commits (delete, or high-water mark) write.
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OUTBOX_SQL, outboxMigrations } from "../src/events/outbox.ts";

const { values } = parseArgs({ options: { commits: { type: "string", default: "6000" }, orders: { type: "string", default: "1,2,4,16" }, "delete-every": { type: "string", default: "600" }, "ring-slots": { type: "string", default: "4096" } } });
const COMMITS = Number(values.commits);
const ORDERS = values.orders.split(",").map(Number);
const DELETE_EVERY = Number(values["delete-every"]);
const RING_SLOTS = Number(values["ring-slots"]);

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

type Layout = "insert-delete" | "insert-delete-rare" | "deflate-1" | "deflate-6" | "row-per-tx-deflate" | "no-delete" | "ring";
const LAYOUTS: Layout[] = ["insert-delete", "insert-delete-rare", "deflate-1", "deflate-6", "row-per-tx-deflate", "no-delete", "ring"];

/** WAL frames per commit the outbox adds, and the part of them the relay's own commits write. */
function outboxFramesPerCommit(layout: Layout, ordersPerCommit: number): { all: number; relay: number } {
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
    const deleteUpTo = db.prepare("DELETE FROM event_outbox WHERE seq <= ?");
    // The ring is the outbox's own: its migration's tables and statements, one lap written
    // first (the slots' rows exist from the first lap on), so what is counted is the steady state.
    db.run(outboxMigrations[1]!.up as string);
    db.run("UPDATE event_outbox_state SET ring_slots = ?", [RING_SLOTS]);
    const putSlot = db.prepare(OUTBOX_SQL.putSlot);
    const markAcknowledged = db.prepare(OUTBOX_SQL.acknowledge);
    let seq = 0;
    if (layout === "ring") db.transaction(() => { while (seq < RING_SLOTS) for (const tx of orderEvents()) for (const event of tx) putSlot.run(++seq % RING_SLOTS, seq, Date.now(), event); })();
    db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    let relayFrames = 0;
    const walFrames = () => statSync(join(dir, "b.db-wal")).size / (24 + 4096);
    const write = (events: string[]) => {
      if (layout === "row-per-tx-deflate") return void insert.run(++seq, Date.now(), Bun.deflateSync("[" + events.join(",") + "]", { level: 1 }));
      for (const event of events) {
        if (layout === "ring") putSlot.run(++seq % RING_SLOTS, seq, Date.now(), event);
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
      const every = layout === "insert-delete-rare" ? DELETE_EVERY * 10 : DELETE_EVERY;
      if (layout === "no-delete" || commit % every !== every - 1) continue;
      const before = walFrames();
      db.transaction(() => void (layout === "ring" ? markAcknowledged.run(seq) : deleteUpTo.run(seq)))();
      relayFrames += walFrames() - before;
    }
    return { all: walFrames() / COMMITS - 1, relay: relayFrames / COMMITS };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const perOrder = (frames: number, orders: number) => Math.round((frames / orders) * 1000) / 1000;
const result: Record<string, Record<string, { all: number; relay: number }>> = {};
for (const orders of ORDERS) {
  const row: Record<string, { all: number; relay: number }> = {};
  for (const layout of LAYOUTS) {
    const { all, relay } = outboxFramesPerCommit(layout, orders);
    row[layout] = { all: perOrder(all, orders), relay: perOrder(relay, orders) };
  }
  result[`outbox_frames_per_order_at_${orders}_orders_per_commit`] = row;
}
console.log(JSON.stringify({ commits: COMMITS, delete_every: DELETE_EVERY, ring_slots: RING_SLOTS, ...result }));
