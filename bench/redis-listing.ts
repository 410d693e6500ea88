// The Redis queue's job listing: a dashboard page (25 newest dead jobs of one type, and the 25
// newest of all) read through the status/type index, beside the same page read by scanning
// every job kept (a filter the index cannot serve, which matches every job) — same run, same data.
//   REDIS_URL=redis://127.0.0.1:6379 bun bench/redis-listing.ts   [--jobs 100000]
// Prints one JSON line.
import { RedisClient } from "bun";
import type { ListQuery } from "../src/db/list-query.ts";
import { RedisQueue } from "../src/jobs/redis.ts";
import { median } from "./lib/files.ts";

const url = process.env.REDIS_URL;
if (!url) {
  console.error("set REDIS_URL (e.g. redis://127.0.0.1:6379)");
  process.exit(2);
}
const args = process.argv.slice(2);
const JOBS = args.includes("--jobs") ? Number(args[args.indexOf("--jobs") + 1]) : 100_000;
const ROUNDS = 15;
const prefix = `bench-listing-${process.pid}`;
const queue = new RedisQueue({ url, prefix });
await queue.migrate();

// Jobs of 10 types; one in 50 dies, the rest stay waiting (their state does not change the cost).
for (let i = 0; i < JOBS; i += 1_000) {
  await queue.enqueueMany(Array.from({ length: Math.min(1_000, JOBS - i) }, (_, k) => ({ type: `type_${(i + k) % 10}` })));
}
for (let claimed = 0; claimed < JOBS / 50; ) {
  const { claimed: jobs } = await queue.settleAndClaim([], Math.min(500, JOBS / 50 - claimed), 60_000);
  if (jobs.length === 0) break;
  claimed += jobs.length;
  await queue.settleAndClaim(jobs.map((job) => ({ kind: "dead", job, error: "bench", at: Date.now() })), 0, 60_000);
}

const everything = [{ field: "attempts", op: "gte" as const, value: 0 }];
const pages: Record<string, ListQuery> = {
  newest: { where: [], sort: [{ field: "id", direction: "desc" }], limit: 25, offset: 0 },
  dead_of_one_type: { where: [[{ field: "status", op: "eq", value: "dead" }], [{ field: "type", op: "eq", value: "type_3" }]], sort: [{ field: "id", direction: "desc" }], limit: 25, offset: 0 },
};
const results: Record<string, { indexed_ms: number; scan_ms: number; scan_vs_indexed: number; rows: number }> = {};
for (const [name, query] of Object.entries(pages)) {
  const time = async (q: ListQuery) => {
    const t0 = performance.now();
    const { rows } = await queue.listStatuses(q);
    return { ms: performance.now() - t0, rows: rows.length };
  };
  const indexed: number[] = [];
  const scan: number[] = [];
  let rows = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const a = await time(query);
    rows = a.rows;
    indexed.push(a.ms);
    if (r < 3) scan.push((await time({ ...query, where: [...query.where, everything] })).ms); // slow: fewer rounds
  }
  const i = median(indexed);
  const s = median(scan);
  results[name] = { indexed_ms: +i.toFixed(2), scan_ms: +s.toFixed(1), scan_vs_indexed: Math.round(s / i), rows };
}

await queue.close();
const admin = new RedisClient(url);
for (let cursor = "0"; ; ) {
  const [next, keys] = (await admin.send("SCAN", [cursor, "MATCH", `${prefix}:*`, "COUNT", "10000"])) as [string, string[]];
  if (keys.length > 0) await admin.send("UNLINK", keys);
  cursor = next;
  if (cursor === "0") break;
}
admin.close();
console.log(JSON.stringify({ bench: "redis_listing", jobs: JOBS, pages: results }));
