// Per-app request helpers: the request's id, when it started, who is calling (each resolved
// once per request), and whether the caller sees everything (admin) or only their own rows.
import type { AuthUser } from "../models/users.ts";
import { bearerToken, isAdmin } from "./auth.ts";
import { unauthorized } from "../errors.ts";
import { requestIdOf } from "./http-guards.ts";
import type { Services } from "../models/services.ts";
import { RouteDocs } from "./route-docs.ts";
import { requestIdSource } from "./request-ids.ts";

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** What one request has resolved so far: one record per request rather than one map per fact. */
interface RequestState {
  id: string;
  /** performance.now() when it arrived; -1 once its timing has been taken (it is counted once). */
  startedAt: number;
  /** undefined: not resolved yet; null: anonymous. */
  user: AuthUser | null | undefined;
}

type Keyed = Request & { [key: symbol]: RequestState | undefined };

export class AppContext {
  // One record per request, kept on the request itself under a symbol of this app (two apps in
  // one process never see each other's): a WeakMap entry per request cost its insert and the
  // collector's work on the dead keys of every request answered.
  private readonly key = Symbol("backroom request");
  private readonly nextId = requestIdSource();
  /** Every route's declaration, in order: /openapi.json is rendered from it. */
  readonly docs = new RouteDocs();

  constructor(
    readonly services: Services,
    readonly adminRole: string,
  ) {}

  /** The request's record, made on first use (the app's first hook to run for it: app.ts). */
  private state(request: Request): RequestState {
    let state = (request as Keyed)[this.key];
    if (!state) {
      state = { id: requestIdOf(request, this.nextId), startedAt: performance.now(), user: undefined };
      (request as Keyed)[this.key] = state;
    }
    return state;
  }

  requestId(request: Request): string {
    return this.state(request).id;
  }

  /** When the request arrived (performance.now()), the first time this is asked; then null. */
  takeStart(request: Request): number | null {
    const state = (request as Keyed)[this.key];
    if (!state || state.startedAt < 0) return null;
    const started = state.startedAt;
    state.startedAt = -1;
    return started;
  }

  /** The caller, or null when anonymous. A token that is present but not valid is a 401. */
  auth(request: Request): AuthUser | null {
    const state = this.state(request);
    if (state.user !== undefined) return state.user;
    const token = bearerToken(request.headers.get("authorization"));
    const user = token === null ? null : this.services.tokens.authenticate(token);
    if (token !== null && !user) throw unauthorized("the bearer token is not valid (unknown or revoked)");
    state.user = user;
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
