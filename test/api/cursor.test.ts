// Keyset pagination over REST (?cursor=): every row once while rows are inserted between
// pages, on model lists and job statuses; a cursor that was altered, or is sent with another
// sort or with ?page=, is a 400 INVALID_QUERY.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { storeFixture, type StoreFixture } from "../store/support.ts";

describe("keyset pagination", () => {
  let store: StoreFixture;
  beforeEach(() => {
    store = storeFixture();
  });
  afterEach(() => store.close());

  /** Walks a listing page by page, calling `between` after each page; answers the ids in order and the metas. */
  async function walk(path: string, token: string | undefined, between: (lastRow: any) => Promise<void>) {
    const seen: string[] = [];
    const metas: any[] = [];
    let cursor = "";
    for (let page = 0; page < 100; page++) {
      const reply = await store.call("GET", `${path}${path.includes("?") ? "&" : "?"}cursor=${encodeURIComponent(cursor)}`, { token });
      expect(reply.status).toBe(200);
      seen.push(...reply.body.data.map((r: { id: string }) => r.id));
      metas.push(reply.body.meta);
      if (!reply.body.meta.has_more) break;
      cursor = reply.body.meta.next_cursor;
      await between(reply.body.data.at(-1));
    }
    return { seen, metas };
  }

  const addBook = async (book: Record<string, unknown>) => {
    const reply = await store.call("POST", "/api/books", { token: store.users.admin.token, body: { title: "Added", author: "Someone", stock: 1, price_cents: 500, ...book } });
    expect(reply.status).toBe(201);
    return reply.body.data.id as string;
  };

  test("model lists: every book once, in the sort's order, while books are added between pages (ties on price, NULL publish_at first)", async () => {
    for (let i = 0; i < 4; i++) await addBook({ title: `Future ${i}`, publish_at: new Date(Date.UTC(2030, 0, 1 + i)).toISOString(), price_cents: 1299 });
    for (const sort of ["", "-created_at", "price_cents", "-price_cents,title", "publish_at", "-publish_at"]) {
      const path = `/api/books?limit=3${sort ? `&sort=${sort}` : ""}`;
      const before = (await store.call("GET", `/api/books?limit=100${sort ? `&sort=${sort}` : ""}`)).body.data.map((b: { id: string }) => b.id);
      // Each added book ties with the page's last row on price, sorts before or after the position by the other keys.
      const { seen, metas } = await walk(path, undefined, async (last) => void (await addBook({ price_cents: last.price_cents, publish_at: null })));
      expect({ sort, repeated: seen.length - new Set(seen).size }).toEqual({ sort, repeated: 0 });
      expect({ sort, skipped: before.filter((id: string) => !seen.includes(id)) }).toEqual({ sort, skipped: [] });
      const now = (await store.call("GET", `/api/books?limit=100${sort ? `&sort=${sort}` : ""}`)).body.data.map((b: { id: string }) => b.id);
      expect({ sort, seen }).toEqual({ sort, seen: now.filter((id: string) => seen.includes(id)) });
      expect(metas[0]).toEqual({ limit: 3, next_cursor: expect.any(String), has_more: true });
      expect(metas.at(-1).has_more).toBe(false);
    }
  });

  test("job statuses: a caller pages through exactly their own jobs while jobs are enqueued between pages, newest first and oldest first", async () => {
    const job = (user: { id: string }) => store.queue.enqueue({ type: "send_receipt", actorId: user.id });
    const anas: string[] = [];
    for (let i = 0; i < 5; i++) {
      anas.push(job(store.users.ana));
      job(store.users.ben);
    }
    for (const sort of ["-created_at", "created_at"]) {
      const { seen } = await walk(`/api/job_statuses?limit=2&sort=${sort}`, store.users.ana.token, async () => {
        anas.push(job(store.users.ana));
        job(store.users.ben);
      });
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.every((id) => anas.includes(id))).toBe(true);
      // Newest first, the orders placed meanwhile sort before the position; oldest first, after it, and are seen too.
      const expected = sort === "created_at" ? [...anas] : anas.slice(0, 5).reverse();
      expect(seen).toEqual(expected);
    }
  });

  test("the last page's next_cursor follows the listing: polled, it answers only rows added since", async () => {
    const job = () => store.queue.enqueue({ type: "report", actorId: store.users.ana.id });
    const ids = [job(), job(), job()];
    const path = "/api/job_statuses?limit=10";
    const first = await store.call("GET", `${path}&cursor=`, { token: store.users.ana.token });
    expect(first.body.data.map((r: { id: string }) => r.id)).toEqual(ids);
    expect(first.body.meta).toMatchObject({ limit: 10, has_more: false });
    const tail = first.body.meta.next_cursor as string;
    const idle = await store.call("GET", `${path}&cursor=${tail}`, { token: store.users.ana.token });
    expect(idle.body).toEqual({ data: [], meta: { limit: 10, next_cursor: tail, has_more: false } });
    const added = job();
    const next = await store.call("GET", `${path}&cursor=${tail}`, { token: store.users.ana.token });
    expect(next.body.data.map((r: { id: string }) => r.id)).toEqual([added]);
  });

  test("the OpenAPI document offers cursor on model lists and job statuses, and describes next_cursor and has_more", async () => {
    const doc = (await store.call("GET", "/openapi.json")).body;
    for (const path of ["/api/books", "/api/job_statuses"]) expect(doc.paths[path].get.parameters.map((p: { name: string }) => p.name)).toContain("cursor");
    expect(Object.keys(doc.components.schemas.ListMeta.properties)).toEqual(expect.arrayContaining(["limit", "next_cursor", "has_more"]));
  });

  test("a tampered, truncated or foreign cursor, a cursor for another sort, and cursor with page are 400 INVALID_QUERY", async () => {
    const first = await store.call("GET", "/api/books?limit=2&sort=price_cents&cursor=");
    const cursor = first.body.meta.next_cursor as string;
    expect((await store.call("GET", `/api/books?limit=2&sort=price_cents&cursor=${cursor}`)).status).toBe(200);
    const [payload, sum] = cursor.split(".");
    const body = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = Buffer.from(JSON.stringify({ ...body, k: [0, body.k[1]] })).toString("base64url");
    const flipped = `${payload!.slice(0, 5)}${payload![5] === "A" ? "B" : "A"}${payload!.slice(6)}.${sum}`;
    for (const bad of [flipped, `${forged}.${sum}`, payload!, `${cursor}x`, "not-a-cursor", `${cursor}.${sum}`]) {
      const reply = await store.call("GET", `/api/books?limit=2&sort=price_cents&cursor=${encodeURIComponent(bad)}`);
      expect({ bad, status: reply.status, code: reply.body.error?.code }).toEqual({ bad, status: 400, code: "INVALID_QUERY" });
      expect(reply.body.error.details).toEqual([{ field: "cursor", message: expect.any(String) }]);
    }
    for (const path of [`/api/books?limit=2&sort=-price_cents&cursor=${cursor}`, `/api/books?limit=2&cursor=${cursor}`, `/api/books?limit=2&sort=price_cents&page=2&cursor=${cursor}`, "/api/books?page=1&cursor="]) {
      const reply = await store.call("GET", path);
      expect({ path, status: reply.status, code: reply.body.error?.code }).toEqual({ path, status: 400, code: "INVALID_QUERY" });
    }
    const jobs = await store.call("GET", `/api/job_statuses?cursor=${cursor}`, { token: store.users.admin.token });
    expect(jobs.status).toBe(400);
  });
});
