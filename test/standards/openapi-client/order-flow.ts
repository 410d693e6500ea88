// A client of the bookstore generated from its live /openapi.json (openapi-typescript 7 writes
// .generated/schema.d.ts) and called through openapi-fetch: list books, place an order, poll its
// receipt job. Type-checked by TypeScript 5 with no casts (openapi-tools.test.ts): every field
// read here is typed by the document, so a document that loses a field, a required mark or an
// enum breaks this file, and so does reading a field as the wrong type.
import createClient from "openapi-fetch";
import type { paths } from "./.generated/schema.d.ts";

type JobState = "enqueued" | "running" | "succeeded" | "failed" | "dead" | "cancelled";

export async function orderFlow(baseUrl: string, token: string): Promise<{ orderId: string; jobId: string; status: JobState; polls: number }> {
  const api = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });

  const books = await api.GET("/api/books", { params: { query: { limit: 5, sort: "title" } } });
  if (books.error) throw new Error(`books: ${books.error.error.code}`);
  const book = books.data.data.find((b) => b.stock > 0 && b.status === "published");
  if (!book) throw new Error("no book in stock");
  const bookId: string = book.id;

  const placed = await api.POST("/api/orders", { body: { lines: [{ book_id: bookId, quantity: 1 }] }, params: { header: { "idempotency-key": `flow-${bookId}` } } });
  if (placed.error) throw new Error(`order refused: ${placed.error.error.code} ${placed.error.error.message}`);
  const orderId: string = placed.data.data.order_id;
  const jobId: string = placed.data.data.job_id;

  for (let polls = 1; polls <= 200; polls++) {
    const job = await api.GET("/api/job_statuses/{id}", { params: { path: { id: jobId } } });
    if (job.error) throw new Error(`job status: ${job.error.error.code}`);
    const status: JobState = job.data.data.status;
    const finished: string | null = job.data.data.completed_at;
    if (status === "succeeded" && finished !== null) return { orderId, jobId, status, polls };
    if (status === "dead" || status === "cancelled") return { orderId, jobId, status, polls };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the receipt job did not finish in time");
}
