// API tokens of users.
//
// A token is 32 random bytes shown once ("brt_…"); only its SHA-256 is stored, so a copy of
// the database file does not hand out working credentials. Tokens are revocable one by one.
import { monotonicFactory } from "../ulid.ts";
import type { Db } from "../db/open.ts";
import type { AuthUser } from "./users.ts";

export interface TokenInfo {
  id: string;
  user_id: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
}

export class TokenService {
  private readonly nextId = monotonicFactory();
  /**
   * Live tokens already looked up, so a request does not pay for a hash and a join (8 µs of
   * a 16 µs status read). Correct because this process is the file's only writer: every
   * change that could make an entry stale (a revoke, any write to users) goes through
   * `forget()`. Bounded; unknown tokens are never cached.
   */
  private readonly cache = new Map<string, AuthUser>();
  private static readonly CACHE_LIMIT = 10_000;
  private readonly changeListeners = new Set<() => void>();
  private changes = 0;

  constructor(private readonly db: Db) {}

  /**
   * Counts the changes that may have altered what a token grants: holders of a long-lived
   * credential (a realtime socket) re-check their token when it moved, an integer compare
   * per use instead of a lookup.
   */
  get generation(): number {
    return this.changes;
  }

  /**
   * Calls `listener` after each such change (a revoke, any write to users), so long-lived
   * connections can be closed or re-scoped without waiting for their next use. It may run
   * inside the write's open transaction: defer work that reads the outcome.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Drops every cached lookup (called on revokes and on writes to users). */
  forget(): void {
    this.cache.clear();
    this.changes++;
    for (const listener of this.changeListeners) listener();
  }

  /** Creates a token for a user; the clear token is returned once and never stored. */
  issue(userId: string, name = "api"): { id: string; token: string } {
    return this.adopt(userId, name, `brt_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url")}`);
  }

  /** Stores a token chosen by the caller (the documented development tokens). */
  adopt(userId: string, name: string, token: string): { id: string; token: string } {
    const id = this.nextId();
    this.db.sqlite
      .query("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(id, userId, name, hashToken(token), Date.now());
    return { id, token };
  }

  /** The user a live token belongs to, or null. */
  authenticate(token: string): AuthUser | null {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const row = this.db.sqlite
      .query(
        `SELECT u.id, u.name, u.email, u.roles FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND t.revoked_at IS NULL`,
      )
      .get(hashToken(token)) as { id: string; name: string; email: string; roles: string } | null;
    if (!row) return null;
    const user: AuthUser = { ...row, roles: JSON.parse(row.roles) };
    if (this.cache.size >= TokenService.CACHE_LIMIT) this.cache.clear();
    this.cache.set(token, user);
    return user;
  }

  revoke(tokenId: string): boolean {
    const revoked = this.db.sqlite.query("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(Date.now(), tokenId).changes > 0;
    this.forget();
    return revoked;
  }

  find(tokenId: string): TokenInfo | null {
    return this.db.sqlite.query("SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE id = ?").get(tokenId) as TokenInfo | null;
  }

  listFor(userId: string): TokenInfo[] {
    return this.db.sqlite
      .query("SELECT id, user_id, name, created_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY id")
      .all(userId) as TokenInfo[];
  }
}

// Bun's own hasher, not node:crypto: importing node:crypto costs a start ~8 ms (issue 20).
function hashToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
