// The bookstore's receipt handler written for a sandbox thread, for bench/sandbox.ts (receipts
// inline vs sandboxed): the order and customer are read through the thread's read-only
// connection, the receipt rendered with the store's own renderReceipt, and mailed by a mailer
// the thread opens once (same outbox or SMTP settings as the server's, passed as `data`).
import type { SandboxContext } from "../src/jobs/sandbox-protocol.ts";
import type { Job } from "../src/jobs/types.ts";
import { PermanentJobError } from "../src/jobs/attempt.ts";
import { createMailer, type Mailer } from "../src/runtime/mailer.ts";
import { renderReceipt } from "../src/store/receipt.ts";

let mailer: Mailer | null = null;

export async function sendReceipt(job: Job, { db, data }: SandboxContext) {
  const { order_id } = job.payload as { order_id: string };
  const { from, outbox } = data as { from: string; outbox: string };
  mailer ??= createMailer({ from, outbox });
  const order = db!.query("SELECT user_id, lines, total_cents, created_at FROM orders WHERE id = ?").get(order_id) as { user_id: string; lines: string; total_cents: number; created_at: number } | null;
  if (!order) throw new PermanentJobError(`order ${order_id} does not exist`);
  const customer = db!.query("SELECT name, email FROM users WHERE id = ?").get(order.user_id) as { name: string; email: string } | null;
  if (!customer) throw new PermanentJobError(`customer ${order.user_id} of order ${order_id} does not exist`);
  const lines = typeof order.lines === "string" ? JSON.parse(order.lines) : order.lines;
  const sent = await mailer.send({
    to: customer.email,
    subject: `Your receipt for order ${order_id}`,
    text: renderReceipt(order_id, customer.name, lines, order.total_cents, new Date(order.created_at).toISOString()),
    messageId: `<receipt-${order_id}@backroom.local>`,
  });
  return { output: { message_id: sent.messageId, to: customer.email }, url: sent.url, mime: "message/rfc822" };
}
