// The store app's REST surface as an Elysia type, for Eden's treaty client:
//   import type { StoreApp } from "backroom/src/store/api-types.ts";
//   const api = treaty<StoreApp>("127.0.0.1:8080", { headers: { authorization: "Bearer …" } });
// The real routes are registered at run time from models and actions, which Elysia cannot
// type; this chain declares the same routes with their bodies and answers. It is only ever
// imported as a type (never served); test/standards/openapi.test.ts checks that every route
// here exists in the real app.
import { Elysia } from "elysia";
import { Type as t } from "@sinclair/typebox";

interface Book {
  id: string;
  title: string;
  author: string;
  price_cents: number;
  stock: number;
  status: "draft" | "published";
  publish_at: string | null;
  created_at: string;
  updated_at: string;
}
interface OrderLine {
  book_id: string;
  title: string;
  quantity: number;
  unit_price_cents: number;
}
interface Order {
  id: string;
  user_id: string;
  lines: OrderLine[];
  total_cents: number;
  status: "placed" | "cancelled";
  created_at: string;
  updated_at: string;
}
export interface JobStatusJson {
  id: string;
  type: string;
  status: "enqueued" | "running" | "succeeded" | "failed" | "dead" | "cancelled";
  priority: number;
  attempts: number;
  max_retry: number;
  actor_id: string | null;
  tenant_id: string | null;
  group_key: string | null;
  trace_id: string | null;
  error?: string | null;
  result_url: string | null;
  result_mime: string | null;
  output: unknown;
  run_at: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  updated_at: string;
}
/** ?page= answers the first; ?cursor= the second (docs/api.md, "Keyset pages"). */
type ListMeta = { total: number; page: number; limit: number; pages: number } | { limit: number; next_cursor: string | null; has_more: boolean };
type One<T> = { data: T };
type Many<T> = { data: T[]; meta: ListMeta };
const answer = <T>() => ({}) as T;

const PlaceOrder = t.Object({ lines: t.Array(t.Object({ book_id: t.String(), quantity: t.Integer({ minimum: 1 }) })) });

export const storeSurface = new Elysia()
  .get("/api/books", () => answer<Many<Book>>())
  .get("/api/books/:id", () => answer<One<Book>>())
  .post("/api/orders", () => answer<One<{ order_id: string; job_id: string }>>(), { body: PlaceOrder })
  .get("/api/orders", () => answer<Many<Order>>())
  .get("/api/orders/:id", () => answer<One<Order>>())
  .get("/api/job_statuses", () => answer<Many<JobStatusJson>>())
  .get("/api/job_statuses/:id", () => answer<One<JobStatusJson>>())
  .post("/api/job_statuses/:id/cancel", () => answer<One<JobStatusJson>>())
  .get("/api/me", () => answer<One<{ id: string; name: string; email: string; roles: string[] }>>());

export type StoreApp = typeof storeSurface;
