// The send_receipt job: render the order's receipt and mail it to the customer. A mailer
// failure fails the attempt (retried with backoff, finally dead); it never touches the order.
// An order or customer that does not exist never will (the job is written with its order),
// so that job is dead at once rather than retried.
import { PermanentJobError, type Handler, type Mailer, type Services } from "../index.ts";

interface OrderLine {
  title: string;
  quantity: number;
  unit_price_cents: number;
}

export function sendReceiptHandler(services: Services, mailer: Mailer): Handler {
  return async (job) => {
    const { order_id } = job.payload as { order_id: string };
    const order = services.model("orders").get(order_id);
    if (!order) throw new PermanentJobError(`order ${order_id} does not exist`);
    const customer = services.model("users").get(order.user_id as string);
    if (!customer) throw new PermanentJobError(`customer ${order.user_id} of order ${order_id} does not exist`);
    const sent = await mailer.send({
      to: customer.email as string,
      subject: `Your receipt for order ${order_id}`,
      text: renderReceipt(order_id, customer.name as string, order.lines as OrderLine[], order.total_cents as number, order.created_at as string),
      messageId: `<receipt-${order_id}@backroom.local>`,
    });
    return { output: { message_id: sent.messageId, to: customer.email }, url: sent.url, mime: "message/rfc822" };
  };
}

export function renderReceipt(orderId: string, name: string, lines: OrderLine[], totalCents: number, placedAt: string): string {
  const money = (cents: number) => (cents / 100).toFixed(2);
  const rows = lines.map((l) => `  ${String(l.quantity).padStart(3)} × ${l.title.padEnd(40).slice(0, 40)} ${money(l.quantity * l.unit_price_cents).padStart(10)}`);
  return [
    `Hello ${name},`,
    "",
    `thank you for your order ${orderId}, placed ${placedAt}.`,
    "",
    ...rows,
    `  ${"".padEnd(46)}----------`,
    `  ${"Total".padEnd(46)}${money(totalCents).padStart(10)}`,
    "",
    "Backroom Books",
  ].join("\n");
}
