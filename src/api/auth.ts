// Users, roles and bearer tokens.
//
// A token is 32 random bytes shown once ("brt_…"); only its SHA-256 is stored, so a copy of
// the database file does not hand out working credentials. Tokens are revocable one by one.
import { createHash, randomBytes } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { monotonicFactory } from "ulid";
import type { Db } from "../db/open.ts";
import { forbidden, unauthorized } from "../errors.ts";
import { defineModel, type Access } from "./model.ts";

export interface AuthUser {
  id: string;
  name: string;
  email: string;
  roles: string[];
}

export const DEFAULT_ADMIN_ROLE = "admin";
const adminOnly = { role: DEFAULT_ADMIN_ROLE } as const;

export const usersModel = defineModel({
  name: "User",
  table: "users",
  fields: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ pattern: "^[^@\\s]+@[^@\\s]+$", maxLength: 320 }),
    roles: Type.Array(Type.String({ pattern: "^[a-z][a-z0-9_-]*$", maxLength: 50 }), { maxItems: 20 }),
  }),
  access: { list: adminOnly, get: adminOnly, create: adminOnly, update: adminOnly, delete: adminOnly },
  uniques: [["email"]],
  migrations: [
    {
      version: 2,
      name: "api tokens",
      up: `
        CREATE TABLE api_tokens (
          id         TEXT    PRIMARY KEY,
          user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
          name       TEXT    NOT NULL,
          token_hash TEXT    NOT NULL UNIQUE,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        );
        CREATE INDEX api_tokens_user ON api_tokens (user_id);`,
    },
  ],
});

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
    return this.adopt(userId, name, `brt_${randomBytes(32).toString("base64url")}`);
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

function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The bearer token of a request, or null when there is no Authorization header. */
export function bearerToken(header: string | null): string | null {
  if (header === null) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthorized("the Authorization header must be: Bearer <token>");
  return match[1]!;
}

export function isAdmin(user: AuthUser | null, adminRole: string): boolean {
  return user !== null && user.roles.includes(adminRole);
}

/** Throws 401 (no or bad credentials) or 403 (wrong role) unless `access` allows `user`. */
export function authorize(access: Access, user: AuthUser | null, adminRole: string): void {
  if (access === "public") return;
  if (access === false) throw forbidden("this operation is not available");
  if (!user) throw unauthorized();
  if (access === "user") return;
  if (!user.roles.includes(access.role) && !user.roles.includes(adminRole)) throw forbidden(`this needs the "${access.role}" role`);
}
