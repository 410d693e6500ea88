// A typed front-end client with Eden's treaty: place an order, then poll its receipt job.
import { treaty } from "@elysiajs/eden";
import type { StoreApp } from "../src/store/app.ts";

export async function placeOrderAndWait(baseUrl: string, token: string, bookId: string): Promise<string> {
  const api = treaty<StoreApp>(baseUrl, { headers: { authorization: `Bearer ${token}` } }) as any;
  const placed = await api.api.orders.post({ lines: [{ book_id: bookId, quantity: 1 }] });
  if (placed.status !== 202) throw new Error(`order refused: ${JSON.stringify(placed.error?.value)}`);
  const jobId: string = placed.data.data.job_id;
  for (let i = 0; i < 100; i++) {
    const { data } = await api.api.job_statuses({ id: jobId }).get();
    if (["succeeded", "dead", "cancelled"].includes(data.data.status)) return data.data.status;
    await Bun.sleep(50);
  }
  throw new Error("the receipt job did not finish in time");
}
