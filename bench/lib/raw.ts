// The raw SQLite baselines: the same rows, the minimal SQL, same file settings. Either one
// transaction per transition (claim, then complete), or claims and completions of 64 rows
// per transaction — the most a queue could hope to approach.
import { monotonicFactory } from "ulid";
import type { Synchronous } from "../../src/db/index.ts";
import { freshDb, perSecond } from "./files.ts";

export interface RawRates {
  enqueue: number;
  process: number;
}

export function rawQueue(synchronous: Synchronous, jobs: number, batch: number, payload: (i: number) => unknown): RawRates {
  const db = freshDb(`raw-${batch}`, synchronous);
  const sqlite = db.sqlite;
  sqlite.run(`CREATE TABLE raw_jobs (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    run_at INTEGER NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, completed_at INTEGER)`);
  sqlite.run("CREATE INDEX raw_jobs_claim ON raw_jobs (status, run_at, id)");
  const nextId = monotonicFactory();
  const insert = sqlite.prepare("INSERT INTO raw_jobs (id, type, payload, status, run_at, created_at) VALUES (?, 'noop', ?, 'enqueued', ?, ?)");
  const claim = sqlite.prepare(`UPDATE raw_jobs SET status = 'running', attempts = attempts + 1, started_at = ?1
    WHERE id IN (SELECT id FROM raw_jobs WHERE status = 'enqueued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2) RETURNING id, payload`);
  const complete = sqlite.prepare("UPDATE raw_jobs SET status = 'succeeded', completed_at = ? WHERE id = ?");
  const t0 = performance.now();
  for (let i = 0; i < jobs; i++) {
    const now = Date.now();
    insert.run(nextId(now), JSON.stringify(payload(i)), now, now);
  }
  const t1 = performance.now();
  const claimBatch = sqlite.transaction(() => claim.all(Date.now(), batch) as { id: string; payload: string }[]);
  const completeBatch = sqlite.transaction((ids: string[]) => {
    for (const id of ids) complete.run(Date.now(), id);
  });
  for (;;) {
    const rows = claimBatch.immediate();
    if (rows.length === 0) break;
    for (const row of rows) JSON.parse(row.payload);
    completeBatch.immediate(rows.map((r) => r.id));
  }
  const t2 = performance.now();
  db.close();
  return { enqueue: perSecond(jobs, t1 - t0), process: perSecond(jobs, t2 - t1) };
}
