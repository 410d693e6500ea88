// Orders and the place-order action: check stock, write the order, take the stock, and queue
// the receipt e-mail — all in ONE atomic unit, group-committed with the requests that arrive
// alongside — then answer 202 with the job id to poll, once that commit is done.
import { conflict, defineAction, defineModel, once, t, validationError } from "../index.ts";

const OrderLine = t.Object({
  book_id: t.String(),
  title: t.String(),
  quantity: t.Integer({ minimum: 1 }),
  unit_price_cents: t.Integer({ minimum: 0 }),
});

export const Order = defineModel({
  name: "Order",
  table: "orders",
  fields: t.Object({
    user_id: t.String(),
    lines: t.Array(OrderLine),
    total_cents: t.Integer({ minimum: 0 }),
    status: t.Union([t.Literal("placed"), t.Literal("cancelled")]),
  }),
  ownerField: "user_id",
  // Orders are placed through POST /api/orders (below), never written directly by callers.
  access: { create: false },
});

const PlaceOrder = t.Object(
  {
    lines: t.Array(t.Object({ book_id: t.String({ minLength: 1, maxLength: 64 }), quantity: t.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 100,
    }),
  },
  { additionalProperties: false },
);

export const RECEIPT_JOB = "send_receipt";

export const OrderPlaced = t.Object({ order_id: t.String(), job_id: t.String({ description: "the receipt job: poll GET /api/job_statuses/{job_id}" }) });

export const placeOrder = defineAction({
  method: "POST",
  path: "/orders",
  name: "placeOrder",
  summary: "Place an order: the order, the stock taken and its receipt job in one commit",
  access: "user",
  body: PlaceOrder,
  response: OrderPlaced,
  status: 202,
  errors: [409],
  async handler({ auth, body, request, services, transaction, traceparent }) {
    const user = auth!;
    const key = request.headers.get("idempotency-key");
    const answer = await transaction(() => once(services.db, { key, userId: user.id, fingerprint: body }, () => {
      const books = services.model("books");
      const context = { auth: user, services, traceparent };
      const lines = body.lines.map(({ book_id, quantity }, i) => {
        const book = books.get(book_id);
        // A draft answers exactly as an unknown id does: its title (its existence) is not public.
        if (!book || book.status === "draft") throw validationError([{ field: `lines.${i}.book_id`, message: `no book on sale with id ${book_id}` }]);
        if ((book.stock as number) < quantity) throw conflict(`not enough stock for "${book.title}": ${book.stock} left, ${quantity} asked`);
        books.update(book_id, { stock: (book.stock as number) - quantity }, context);
        return { book_id, title: book.title as string, quantity, unit_price_cents: book.price_cents as number };
      });
      const total = lines.reduce((sum, l) => sum + l.quantity * l.unit_price_cents, 0);
      const order = services.model("orders").create({ lines, total_cents: total, status: "placed" }, context);
      const jobId = services.queue.enqueue({ type: RECEIPT_JOB, payload: { order_id: order.id }, actorId: user.id, traceId: traceparent });
      return { status: 202 as const, data: { order_id: order.id as string, job_id: jobId } };
    }));
    return { status: answer.status, data: answer.data, headers: answer.replayed ? { "idempotent-replayed": "true" } : undefined };
  },
});
