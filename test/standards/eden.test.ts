// Eden's treaty over the real app: `treaty(app)` is typed by the app createApp returns (no
// hand-written surface), and this file calls every route of the bookstore with typed bodies and
// answers. It type-checks with no casts: a route, a field or a body that the app does not have
// is a compile error here (`npm run typecheck`), and the answers are checked at run time.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import { FormatRegistry } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { NoContent } from "../../src/api/route-docs.ts";
import { waitFor } from "../support/wait.ts";
import { bookstoreApp } from "./bookstore-app.ts";

let store: ReturnType<typeof bookstoreApp>;
/** Each answer seen, checked against the schema its route declares for its status. */
let seen: string[];
let drift: string[];
let called: Set<string>;
beforeEach(() => {
  store = bookstoreApp();
  seen = [];
  drift = [];
  called = new Set();
});
afterEach(() => store.close());

// Answers carry ISO-8601 times; TypeBox checks a format only when one is registered.
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (value) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value));

/** The types promise what the declared schemas say; this holds the real answers to them. */
async function conforms(method: string, path: string, response: { status: number; text(): Promise<string> }) {
  const route = store.routes.find((r) => r.method === method && new RegExp(`^${r.path.replace(/:\w+/g, "[^/]+")}$`).test(path));
  const where = `${method} ${path} → ${response.status}`;
  seen.push(where);
  if (route) called.add(route.operationId);
  const schema = route?.response[response.status];
  if (!schema) return void drift.push(`${where}: no such status declared`);
  const text = await response.text();
  if (schema === NoContent) return void (text === "" || drift.push(`${where}: a body where none is declared`));
  const body = JSON.parse(text);
  if (!Value.Check(schema, body)) drift.push(`${where}: ${[...Value.Errors(schema, body)].slice(0, 3).map((e) => `${e.path} ${e.message}`).join("; ")}`);
}

/** An answer's body on success; the test fails with the error envelope otherwise. */
function ok<Data>(answer: { data: Data | null; error: unknown }): NonNullable<Data> {
  if (answer.data === null || answer.data === undefined) throw new Error(`unexpected error answer: ${JSON.stringify(answer.error)}`);
  return answer.data;
}

// parseDate off: Eden would turn ISO strings into Date objects, which the types (string) do not say.
const client = (token?: string) => {
  let sent = { method: "GET", path: "" };
  return treaty(store.app, {
    parseDate: false,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    onRequest: (path, options) => void (sent = { method: options.method ?? "GET", path: new URL(path, "http://local").pathname }),
    onResponse: async (response) => void (await conforms(sent.method, sent.path, response.clone())),
  });
};

test("every bookstore route answers through treaty(app), typed by the real app", async () => {
  const admin = client(store.users.admin.token);
  const ana = client(store.users.ana.token);
  store.worker.start();

  // Books: public list and get; admins create, replace, change and delete.
  const books = await client().api.books.get({ query: { limit: 2, sort: "title" } });
  const first = books.data?.data[0];
  expect(first?.title).toBeString();
  expect(books.data?.meta.total).toBe(5);
  const created = await admin.api.books.post({ title: "Solaris", author: "Stanisław Lem", price_cents: 1350, stock: 4 });
  expect(created.status).toBe(201);
  const book = ok(created).data;
  const status: "draft" | "published" = book.status; // not nullable: it has a default
  expect(status).toBe("published");
  const publishAt: string | null = book.publish_at;
  expect(publishAt).toBeNull();
  expect((await client().api.books({ id: book.id }).get()).data?.data.author).toBe("Stanisław Lem");
  expect((await admin.api.books({ id: book.id }).put({ title: "Solaris", author: "S. Lem", price_cents: 1400, stock: 4 })).data?.data.price_cents).toBe(1400);
  expect((await admin.api.books({ id: book.id }).patch({ stock: 9 })).data?.data.stock).toBe(9);

  // The place-order action: 202 with the ids; the order is the caller's.
  const placed = await ana.api.orders.post({ lines: [{ book_id: book.id, quantity: 2 }] });
  expect(placed.status).toBe(202);
  const { order_id, job_id } = ok(placed).data;
  const order = await ana.api.orders({ id: order_id }).get();
  expect(order.data?.data.total_cents).toBe(2800);
  expect(order.data?.data.lines[0]?.title).toBe("Solaris");
  expect((await ana.api.orders.get()).data?.data.map((o) => o.id)).toEqual([order_id]);

  // Job statuses: poll to succeeded; list; cancel (409: finished); retry (409: not dead).
  await waitFor(async () => (await ana.api.job_statuses({ id: job_id }).get()).data?.data.status === "succeeded");
  const listed = await ana.api.job_statuses.get({ query: { filter: ["status:eq:succeeded"] } });
  expect(listed.data?.data.map((j) => j.id)).toEqual([job_id]);
  const cancel = await ana.api.job_statuses({ id: job_id }).cancel.post();
  expect(cancel.error?.status).toBe(409);
  expect(cancel.error?.value.error.code).toBe("CONFLICT");
  expect((await admin.api.job_statuses({ id: job_id }).retry.post()).error?.value.error.message).toBe("only a dead job can be retried");

  // Who am I, tokens.
  const me = await ana.api.me.get();
  expect(me.data?.data.name).toBe("ana");
  const issued = await admin.api.users({ id: store.users.ana.id }).tokens.post();
  expect(issued.data?.data.token).toStartWith("brt_");
  expect((await client(ok(issued).data.token).api.tokens({ id: ok(issued).data.id }).delete()).status).toBe(204);

  // Users and webhook subscriptions (the built-in models), admin CRUD.
  const user = await admin.api.users.post({ name: "cy", email: "cy@example.com", roles: [] });
  const userId = ok(user).data.id;
  expect((await admin.api.users.get()).data?.data.length).toBe(3);
  expect((await admin.api.users({ id: userId }).get()).data?.data.email).toBe("cy@example.com");
  expect((await admin.api.users({ id: userId }).put({ name: "Cy", email: "cy@example.com", roles: ["clerk"] })).data?.data.roles).toEqual(["clerk"]);
  expect((await admin.api.users({ id: userId }).patch({ name: "C." })).data?.data.name).toBe("C.");
  expect((await admin.api.users({ id: userId }).delete()).status).toBe(204);
  const hook = await admin.api.webhook_subscriptions.post({ url: "http://127.0.0.1:9/hook", secret: "whsec_0123456789abcdef", pattern: "order.*" });
  const hookId = ok(hook).data.id;
  const hint: string | null = ok(hook).data.secret_hint; // the secret itself is never answered
  expect(hint).toBe("…cdef");
  expect((await admin.api.webhook_subscriptions.get()).data?.data[0]?.pattern).toBe("order.*");
  expect((await admin.api.webhook_subscriptions({ id: hookId }).get()).data?.data.url).toBe("http://127.0.0.1:9/hook");
  expect((await admin.api.webhook_subscriptions({ id: hookId }).put({ url: "http://127.0.0.1:9/h2", secret: "whsec_0123456789abcdef", pattern: ">" })).data?.data.pattern).toBe(">");
  expect((await admin.api.webhook_subscriptions({ id: hookId }).patch({ active: false })).data?.data.active).toBe(false);
  expect((await admin.api.webhook_subscriptions({ id: hookId }).delete()).status).toBe(204);

  // Schedules (admin).
  const schedule = await admin.api.schedules.post({ name: "nightly", schedule: "0 3 * * *", type: "noop" });
  expect(schedule.data?.data.next_fire_at).toEndWith("Z");
  expect((await admin.api.schedules.get()).data?.data.map((s) => s.name)).toEqual(["nightly"]);
  expect((await admin.api.schedules({ name: "nightly" }).get()).data?.data.catch_up).toBe("skip");
  expect((await admin.api.schedules({ name: "nightly" }).patch({ schedule: "0 4 * * *" })).data?.data.schedule).toBe("0 4 * * *");
  expect((await admin.api.schedules({ name: "nightly" }).pause.post()).data?.data.paused).toBe(true);
  expect((await admin.api.schedules({ name: "nightly" }).resume.post()).data?.data.paused).toBe(false);
  const run = await admin.api.schedules({ name: "nightly" }).run.post();
  expect(run.status).toBe(202);
  expect(run.data?.data.job_id).toBeString();
  expect((await admin.api.schedules({ name: "nightly" }).delete()).status).toBe(204);

  // The dashboard's API (admin).
  const overview = await admin.api.admin.overview.get();
  expect(overview.data?.data.counts.some((c) => c.type === "noop" && c.n === 1)).toBe(true); // the job the schedule ran (unfinished jobs only)
  expect((await admin.api.admin.jobs({ id: job_id }).get()).data?.data.maxRetry).toBeNumber();
  expect((await admin.api.admin.jobs.bulk.post({ action: "retry" })).data?.data.affected).toBe(0);
  expect((await admin.api.admin.jobs.bulk.post({ action: "retry", ids: [job_id] })).data?.data.results?.[0]?.result).toBe("not_dead");
  expect((await admin.api.admin.webhook_deliveries.get()).data?.data).toBeArray();
  expect((await admin.api.admin.webhook_deliveries({ id: job_id }).redeliver.post()).status).toBe(404); // not a delivery
  expect((await admin.api.admin.jobs({ id: job_id }).get()).data?.data.attemptsHistory).toBeArray();
  expect((await admin.api.admin.jobs({ id: "01ARZ3NDEKTSV4RRFFQ69G5FAV" }).delete()).status).toBe(404);

  // Named queues (admin).
  expect((await admin.api.queues({ name: "mail" }).pause.post()).data?.data.paused).toBe(true);
  expect((await admin.api.queues.get()).data?.data.find((q) => q.name === "mail")?.paused).toBe(true);
  expect((await admin.api.queues({ name: "mail" }).resume.post()).data?.data.paused).toBe(false);

  // Probes.
  expect((await client().healthz.get()).data?.data.status).toBe("ok");
  expect((await client().readyz.get()).data?.data.status).toBe("ready");

  // Orders are placed by the action; admins may change, replace and delete them.
  const lines = ok(order).data.lines;
  expect((await admin.api.orders({ id: order_id }).patch({ status: "cancelled" })).data?.data.status).toBe("cancelled");
  expect((await admin.api.orders({ id: order_id }).put({ lines, total_cents: 2800, status: "placed" })).data?.data.user_id).toBe(store.users.ana.id);
  expect((await admin.api.orders({ id: order_id }).delete()).status).toBe(204);

  // Books last: delete the one created (its order keeps its lines).
  expect((await admin.api.books({ id: book.id }).delete()).status).toBe(204);

  // Every route was called (/metrics is Prometheus text, outside the typed app), and every
  // answer matched the schema its route declares for its status.
  expect(store.routes.map((r) => r.operationId).filter((id) => !called.has(id))).toEqual(["getMetrics"]);
  expect(drift).toEqual([]);
});

test("errors are typed as our envelope: error.value is {error: {code, message, details}}", async () => {
  const ana = client(store.users.ana.token);
  const invalid = await ana.api.orders.post({ lines: [] });
  expect(invalid.status).toBe(422);
  const code: string | undefined = invalid.error?.value.error.code;
  expect(code).toBe("VALIDATION_ERROR");
  expect(invalid.error?.value.error.details[0]?.field).toBe("lines");
  const anonymous = await client().api.me.get();
  expect(anonymous.error?.status).toBe(401);
  expect(anonymous.error?.value.error.code).toBe("UNAUTHORIZED");
  const forbidden = await ana.api.books.post({ title: "x", author: "y", price_cents: 1, stock: 1 });
  expect(forbidden.error?.value.error.code).toBe("FORBIDDEN");
  expect(drift).toEqual([]);
  expect(seen).toEqual(["POST /api/orders → 422", "GET /api/me → 401", "POST /api/books → 403"]);
});

test("an answer that leaves its declared schema is caught", async () => {
  const route = store.routes.find((r) => r.operationId === "getMe")!;
  await conforms("GET", "/api/me", Response.json({ data: { id: "u1", name: "ana", roles: [] } }, { status: 200 })); // no email
  await conforms("GET", "/api/me", Response.json({ data: {} }, { status: 418 }));
  expect(route.response[200]).toBeDefined();
  expect(drift).toEqual([expect.stringContaining("GET /api/me → 200: /data/email"), "GET /api/me → 418: no such status declared"]);
});

test("the app's type refuses what the app refuses (held by npm run typecheck: each line must be an error)", () => {
  const api = client(store.users.ana.token);
  const typeChecks = async () => {
    // @ts-expect-error no such route
    await api.api.refunds.post({ order_id: "x" });
    // @ts-expect-error quantity is an integer, not a string
    await api.api.orders.post({ lines: [{ book_id: "x", quantity: "1" }] });
    // @ts-expect-error an unknown field
    await api.api.orders.post({ lines: [{ book_id: "x", quantity: 1 }], note: "gift" });
    const placed = ok(await api.api.orders.post({ lines: [{ book_id: "x", quantity: 1 }] }));
    // @ts-expect-error job_id is a string
    const jobId: number = placed.data.job_id;
    const job = ok(await api.api.job_statuses({ id: String(jobId) }).get());
    // @ts-expect-error "queued" is not a job status
    return job.data.status === "queued";
  };
  expect(typeChecks).toBeFunction();
});
