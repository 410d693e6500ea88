// Keyset pagination (`?cursor=`, DESIGN §8): an opaque cursor holds the sort it was made for
// and the sort-key values and id of the last row a page showed; the next page is the rows
// after that position, so rows inserted or deleted meanwhile never shift a page (no row is
// skipped or shown twice, unlike ?page=). A cursor is checksummed, not signed: altering one
// answers 400, and forging one gains nothing, since filters and the caller's scope apply to
// every page. It must never carry anything but the last row's sort keys.
import { keyOf, sortWithTieBreaker, type Column, type ListQuery, type Scalar, type SortKey } from "../db/list-query.ts";
import { invalidQuery } from "../errors.ts";

interface CursorBody {
  /** The sort it was made for, e.g. "created_at:desc,id:desc". */
  s: string;
  /** The last row's values of those keys, in storage form. */
  k: Scalar[];
}

const describe = (order: readonly SortKey[]) => order.map((k) => `${k.field}:${k.direction}`).join(",");
// Bun's own hasher, not node:crypto: importing node:crypto costs a start ~8 ms (issue 20).
const checksum = (payload: string) => new Bun.CryptoHasher("sha256").update(`backroom-cursor.${payload}`).digest("base64url").slice(0, 16);

export function encodeCursor(query: Pick<ListQuery, "sort">, key: readonly Scalar[]): string {
  const payload = Buffer.from(JSON.stringify({ s: describe(sortWithTieBreaker(query)), k: [...key] } satisfies CursorBody)).toString("base64url");
  return `${payload}.${checksum(payload)}`;
}

/** The position a cursor holds, checked against the request's sort and the columns' types. */
export function decodeCursor(raw: string, query: Pick<ListQuery, "sort">, columns: readonly Column[]): Scalar[] {
  const bad = (why: string) => invalidQuery(`the cursor is not valid (${why}): send a next_cursor exactly as it was answered`, "cursor");
  const [payload, sum, extra] = raw.split(".");
  if (!payload || !sum || extra !== undefined || sum !== checksum(payload)) throw bad("altered or truncated");
  let body: CursorBody;
  try {
    body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw bad("unreadable");
  }
  const order = sortWithTieBreaker(query);
  if (body.s !== describe(order)) throw invalidQuery(`this cursor was made for sort=${body.s}; send the sort it was made for, or start again without a cursor`, "cursor");
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const fits = (value: unknown, field: string) => value === null ? field !== "id" : types.get(field) === "text" ? typeof value === "string" : typeof value === "number" && Number.isFinite(value);
  if (!Array.isArray(body.k) || body.k.length !== order.length || !order.every((k, i) => fits(body.k[i], k.field))) throw bad("wrong values");
  return body.k;
}

/** What a keyset page answers: `limit` rows (the engine was asked for one more) and where to go on. */
export function keysetMeta<Row extends Record<string, unknown>>(rows: readonly Row[], query: Pick<ListQuery, "sort" | "limit">, sent: string, keys: readonly Scalar[][] = rows.map((r) => keyOf(r, query))) {
  const hasMore = rows.length > query.limit;
  const shown = Math.min(rows.length, query.limit);
  // An empty page hands back the cursor it was sent: a client polling for new rows keeps it.
  const next = shown > 0 ? encodeCursor(query, keys[shown - 1]!) : sent || null;
  return { rows: rows.slice(0, shown), meta: { limit: query.limit, next_cursor: next, has_more: hasMore } };
}
