// Per-app request helpers: who is calling (resolved once per request), and whether the
// caller sees everything (admin) or only their own rows.
import { monotonicFactory } from "../ulid.ts";
import type { AuthUser } from "../models/users.ts";
import { bearerToken, isAdmin } from "./auth.ts";
import { unauthorized } from "../errors.ts";
import { requestIdOf } from "./http-guards.ts";
import type { Services } from "../models/services.ts";
import { RouteDocs } from "./route-docs.ts";

/**
 * Random numbers for request ids from a pool refilled 256 bytes at a time: ulid's own source
 * allocates a buffer and calls into crypto for each of an id's 16 random characters.
 */
function pooledRandom(): () => number {
  const pool = new Uint8Array(256);
  let at = pool.length;
  return () => {
    if (at === pool.length) {
      crypto.getRandomValues(pool);
      at = 0;
    }
    return pool[at++]! / 256;
  };
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export class AppContext {
  private readonly users = new WeakMap<Request, AuthUser | null>();
  private readonly ids = new WeakMap<Request, string>();
  private readonly nextId = monotonicFactory(pooledRandom());
  /** Every route's declaration, in order: /openapi.json is rendered from it. */
  readonly docs = new RouteDocs();

  constructor(
    readonly services: Services,
    readonly adminRole: string,
  ) {}

  requestId(request: Request): string {
    let id = this.ids.get(request);
    if (!id) {
      id = requestIdOf(request, () => this.nextId());
      this.ids.set(request, id);
    }
    return id;
  }

  /** The caller, or null when anonymous. A token that is present but not valid is a 401. */
  auth(request: Request): AuthUser | null {
    if (this.users.has(request)) return this.users.get(request)!;
    const token = bearerToken(request.headers.get("authorization"));
    const user = token === null ? null : this.services.tokens.authenticate(token);
    if (token !== null && !user) throw unauthorized("the bearer token is not valid (unknown or revoked)");
    this.users.set(request, user);
    return user;
  }

  /** The request's W3C trace context, if it sent a well-formed one (else null: ignored). */
  traceparent(request: Request): string | null {
    const value = request.headers.get("traceparent")?.trim().toLowerCase() ?? null;
    return value && TRACEPARENT.test(value) && !/^[0-9a-f]{2}-0{32}-/.test(value) && !/-0{16}-[0-9a-f]{2}$/.test(value) ? value : null;
  }

  isAdmin(user: AuthUser | null): boolean {
    return isAdmin(user, this.adminRole);
  }
}
