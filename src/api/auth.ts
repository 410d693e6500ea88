// Who calls, over HTTP: the bearer token of a request, and whether a caller's roles allow an
// operation (401 without or with bad credentials, 403 with the wrong role).
import { forbidden, unauthorized } from "../errors.ts";
import type { Access } from "../models/model.ts";
import type { AuthUser } from "../models/users.ts";

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
