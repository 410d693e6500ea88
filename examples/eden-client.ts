// A typed front-end client with Eden's treaty: place an order, then poll its receipt job.
// `StoreApp` is the type of the bookstore's real Elysia app (createApp's answer), so every route,
// body and answer here is checked against the server's own schemas; errors are our envelope.
import { treaty } from "@elysiajs/eden";
import type { StoreApp } from "../src/store/app.ts";

export async function placeOrderAndWait(baseUrl: string, token: string, bookId: string): Promise<string> {
  // parseDate off: times stay the ISO-8601 strings the types say they are.
  const api = treaty<StoreApp>(baseUrl, { parseDate: false, headers: { authorization: `Bearer ${token}` } });
  const placed = await api.api.orders.post({ lines: [{ book_id: bookId, quantity: 1 }] });
  if (placed.error) throw new Error(`order refused: ${placed.error.value.error.code} ${placed.error.value.error.message}`);
  const jobId: string = placed.data.data.job_id;
  for (let i = 0; i < 100; i++) {
    const { data } = await api.api.job_statuses({ id: jobId }).get();
    const status = data?.data.status; // typed: "enqueued" | "running" | … | "cancelled"
    if (status === "succeeded" || status === "dead" || status === "cancelled") return status;
    await Bun.sleep(50);
  }
  throw new Error("the receipt job did not finish in time");
}
