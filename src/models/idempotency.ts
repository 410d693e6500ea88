// Idempotency keys for actions: a till that lost its connection retries with the same
// `Idempotency-Key` and gets the first answer back instead of a second order.
//
// The answer is stored in the SAME transaction as the work it describes, so "work done but
// answer not stored" cannot happen; a retry that arrives while the first is running waits
// for it (one writer) and then replays it.
import type { Migration } from "../db/migrations.ts";
import type { Db } from "../db/open.ts";
import { CodedError, invalidQuery } from "../errors.ts";

export const idempotencyMigrations: Migration[] = [
  {
    component: "api",
    version: 1,
    name: "idempotency keys",
    up: `CREATE TABLE idempotency_keys (
      user_id      TEXT    NOT NULL,
      key          TEXT    NOT NULL,
      request_hash TEXT    NOT NULL,
      status       INTEGER NOT NULL,
      response     TEXT    NOT NULL,
      created_at   INTEGER NOT NULL,
      PRIMARY KEY (user_id, key)
    )`,
  },
];

export type StoredAnswer<Answer extends { status: number; data: unknown } = { status: number; data: unknown }> = Answer & { replayed: boolean };

/**
 * Runs `work` once per (caller, key): a repeat with the same request replays the stored
 * answer; a repeat with a different request is refused (422). Without a key, just runs it.
 * `work` runs inside one transaction together with the stored answer.
 */
export function once<Answer extends { status: number; data: unknown }>(
  db: Db,
  request: { key: string | null; userId: string | null; fingerprint: unknown },
  work: () => Answer,
): StoredAnswer<Answer> {
  if (request.key === null) return { ...db.transaction(work), replayed: false };
  if (request.key.length === 0 || request.key.length > 255) throw invalidQuery("Idempotency-Key must be 1 to 255 characters", "Idempotency-Key");
  const userId = request.userId ?? "";
  const hash = new Bun.CryptoHasher("sha256").update(JSON.stringify(request.fingerprint)).digest("hex");
  return db.transaction(() => {
    const previous = db.sqlite
      .query("SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = ? AND key = ?")
      .get(userId, request.key) as { request_hash: string; status: number; response: string } | null;
    if (previous) {
      if (previous.request_hash !== hash) {
        throw new CodedError(422, "IDEMPOTENCY_KEY_REUSED", "this Idempotency-Key was already used for a different request");
      }
      // The same request by the same caller: the answer stored is the one `work` gave it.
      return { status: previous.status, data: JSON.parse(previous.response), replayed: true } as StoredAnswer<Answer>;
    }
    const answer = work();
    db.sqlite
      .query("INSERT INTO idempotency_keys (user_id, key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(userId, request.key, hash, answer.status, JSON.stringify(answer.data), Date.now());
    return { ...answer, replayed: false };
  });
}

/** Retention: forgets keys stored before `before`; a till retries within minutes, not days. */
export function pruneIdempotencyKeys(db: Db, before: number): number {
  return db.transaction(() => db.sqlite.query("DELETE FROM idempotency_keys WHERE created_at < ?").run(before).changes);
}
