// The bare baseline's routes (bench/lib/bare-server.ts serves them; bench/read-cost.ts calls
// them in-process): bare Elysia on bun:sqlite. It must stay bare: no validation, no auth, no
// envelope beyond the same JSON body.
//   GET /const, GET /readyz          a constant
//   with a db file: GET /job/:id     a point read of the job's row, as stored
//                   GET /books?limit= the SELECT the app runs for an anonymous caller, the same
//                                    rows serialized the same way (ISO times); ?count=1 adds
//                                    the COUNT a page with a total needs
import { Database } from "bun:sqlite";
import { Elysia } from "elysia";

export function bareApp(path?: string) {
  const app = new Elysia().get("/const", () => ({ data: { ok: true } })).get("/readyz", () => ({ data: { status: "ready" } }));
  if (!path) return app;
  const db = new Database(path, { strict: true });
  const job = db.query("SELECT * FROM jobs WHERE id = ?");
  const page = db.query("SELECT * FROM books WHERE status = ? ORDER BY id LIMIT ? OFFSET ?");
  const count = db.query("SELECT count(*) AS n FROM books WHERE status = ?");
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  type Book = { publish_at: number | null; created_at: number; updated_at: number };
  app.get("/job/:id", ({ params }) => ({ data: job.get(params.id) }));
  app.get("/books", ({ query }) => {
    const limit = Number(query.limit ?? 20);
    const rows = page.all("published", limit, 0) as Book[];
    const data = rows.map((r) => ({ ...r, publish_at: iso(r.publish_at), created_at: iso(r.created_at), updated_at: iso(r.updated_at) }));
    // The same total the app answers: counted (?count=1), or known from a short first page.
    const total = query.count === "1" || rows.length === limit ? (count.get("published") as { n: number }).n : rows.length;
    return { data, meta: { total, page: 1, limit, pages: Math.ceil(total / limit) } };
  });
  return app;
}
