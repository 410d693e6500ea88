// A typed front-end client with Eden's treaty: place an order, then poll its receipt job.
import { treaty } from "@elysiajs/eden";
import type { StoreApp } from "../src/store/api-types.ts";

export async function placeOrderAndWait(baseUrl: string, token: string, bookId: string): Promise<string> {
  const api = treaty<StoreApp>(baseUrl, { headers: { authorization: `Bearer ${token}` } });
  const placed = await api.api.orders.post({ lines: [{ book_id: bookId, quantity: 1 }] });
  if (!placed.data) throw new Error(`order refused: ${JSON.stringify(placed.error?.value)}`);
  const jobId = placed.data.data.job_id; // typed: string
  for (let i = 0; i < 100; i++) {
    const { data } = await api.api.job_statuses({ id: jobId }).get();
    const status = data?.data.status; // typed: "enqueued" | "running" | … | "cancelled"
    if (status === "succeeded" || status === "dead" || status === "cancelled") return status;
    await Bun.sleep(50);
  }
  throw new Error("the receipt job did not finish in time");
}
