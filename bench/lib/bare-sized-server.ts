// A reference for bench/binary.ts: bare Elysia with as many routes as the app serves, on a
// SQLite file opened as the app opens its own (WAL, FULL) — what any app of that size pays
// to start on the same two libraries, before any of Backroom's own work. Not a bar: the bar is
// against bare-server.ts's two routes.
//   bare-sized-server <port> <routes> <db file>
import { Database } from "bun:sqlite";
import { Elysia } from "elysia";

const [port, routes, path] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]!];
const db = new Database(path, { create: true, strict: true });
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = FULL");
db.run("CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
const read = db.query("SELECT * FROM rows WHERE id = ?");
const app = new Elysia().get("/readyz", () => ({ data: { status: "ready", checks: db.query("SELECT 1 AS ok").get() } }));
// The app's mix: per resource a list (GET, POST) and an item (GET, PUT, PATCH, DELETE).
const kinds = [["GET", ""], ["POST", ""], ["GET", "/:id"], ["PUT", "/:id"], ["PATCH", "/:id"], ["DELETE", "/:id"]] as const;
for (let i = 0; i < routes; i++) {
  const [method, item] = kinds[i % kinds.length]!;
  app.route(method, `/api/r${Math.floor(i / kinds.length)}${item}`, ({ params }: { params: Record<string, string> }) => ({ data: params.id ? read.get(params.id) : [] }));
}
app.listen({ hostname: "127.0.0.1", port, reusePort: false });
process.on("SIGTERM", () => process.exit(0));
