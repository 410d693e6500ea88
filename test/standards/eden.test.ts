// Eden's treaty over the real app: `treaty(app)` is typed by the app createApp returns (no
// hand-written surface), and this file calls every route of the bookstore with typed bodies and
// answers. It type-checks with no casts: a route, a field or a body that the app does not have
// is a compile error here (`npm run typecheck`), and the answers are checked at run time.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { treaty } from "@elysiajs/eden";
import { waitFor } from "../support/wait.ts";
import { bookstoreApp } from "./bookstore-app.ts";

let store: ReturnType<typeof bookstoreApp>;
beforeEach(() => (store = bookstoreApp()));
afterEach(() => store.close());

// parseDate off: Eden would turn ISO strings into Date objects, which the types (string) do not say.
const client = (token?: string) => treaty(store.app, { parseDate: false, headers: token ? { authorization: `Bearer ${token}` } : {} });

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
  const book = created.data!.data;
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
  const { order_id, job_id } = placed.data!.data;
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
  expect((await client(issued.data!.data.token).api.tokens({ id: issued.data!.data.id }).delete()).status).toBe(204);

  // Users and webhook subscriptions (the built-in models), admin CRUD.
  const user = await admin.api.users.post({ name: "cy", email: "cy@example.com", roles: [] });
  const userId = user.data!.data.id;
  expect((await admin.api.users.get()).data?.data.length).toBe(3);
  expect((await admin.api.users({ id: userId }).get()).data?.data.email).toBe("cy@example.com");
  expect((await admin.api.users({ id: userId }).put({ name: "Cy", email: "cy@example.com", roles: ["clerk"] })).data?.data.roles).toEqual(["clerk"]);
  expect((await admin.api.users({ id: userId }).patch({ name: "C." })).data?.data.name).toBe("C.");
  expect((await admin.api.users({ id: userId }).delete()).status).toBe(204);
  const hook = await admin.api.webhook_subscriptions.post({ url: "http://127.0.0.1:9/hook", secret: "whsec_0123456789abcdef", pattern: "order.*" });
  const hookId = hook.data!.data.id;
  const hint: string | null = hook.data!.data.secret_hint; // the secret itself is never answered
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

  // Probes.
  expect((await client().healthz.get()).data?.data.status).toBe("ok");
  expect((await client().readyz.get()).data?.data.status).toBe("ready");

  // Books last: delete the one created (its order keeps its lines).
  expect((await admin.api.books({ id: book.id }).delete()).status).toBe(204);
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
});
