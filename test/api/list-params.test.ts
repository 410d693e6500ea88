// Parsing list queries: numbers that are not safe integers, and LIKE patterns, are refused
// with 400 INVALID_QUERY before any engine sees them.
import { afterEach, describe, expect, test } from "bun:test";
import { parseListParams } from "../../src/api/list-params.ts";
import { STATUS_COLUMNS } from "../../src/jobs/status-columns.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";

const parse = (query: string) => parseListParams(new URLSearchParams(query), STATUS_COLUMNS);
const refusal = (query: string) => {
  try {
    parse(query);
  } catch (error) {
    return error as { status: number; code: string };
  }
  return null;
};

describe("list parameters", () => {
  let store: StoreFixture | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
  });

  test("GET /api/books?page=99999999999999999999 is a 400 INVALID_QUERY in the envelope, not a 500", async () => {
    store = storeFixture();
    for (const query of ["page=99999999999999999999", "page=9007199254740993", "limit=99999999999999999999", "page=100000000000000&limit=100"]) {
      const reply = await store.call("GET", `/api/books?${query}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe("INVALID_QUERY");
    }
    expect((await store.call("GET", "/api/books?page=2&limit=1")).status).toBe(200);
  });

  test("pages, limits, offsets and integer or time filter values past 2^53 are refused", () => {
    for (const query of ["page=9007199254740993", "limit=18446744073709551616", "page=100000000000000&limit=100", "filter=attempts:gt:99999999999999999999", "filter=created_at:gt:99999999999999999999"]) {
      expect(refusal(query)).toMatchObject({ status: 400, code: "INVALID_QUERY" });
    }
    expect(parse("page=3&limit=50").offset).toBe(100);
    expect(parse("filter=attempts:gt:9007199254740991").where[0]![0]!.value).toBe(9007199254740991);
  });

  test("a LIKE pattern longer than 400 characters is a 400 INVALID_QUERY; 400 characters pass", async () => {
    expect(refusal(`filter=type:like:${"%".repeat(401)}`)).toMatchObject({ status: 400, code: "INVALID_QUERY" });
    expect(parse(`filter=type:like:${"%a".repeat(200)}`).where).toHaveLength(1);
    store = storeFixture();
    const reply = await store.call("GET", `/api/job_statuses?filter=type:like:${"%25".repeat(401)}`, { token: store.users.ana.token });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe("INVALID_QUERY");
  });
});
