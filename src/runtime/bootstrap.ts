// Users a fresh database needs: the first admin (its token shown once), and — only when asked
// with --dev — the documented development users with well-known tokens.
import type { Services } from "../models/services.ts";

export const DEV_USERS = [
  { name: "admin", email: "admin@backroom.local", roles: ["admin"], token: "dev-admin-token" },
  { name: "ana", email: "ana@backroom.local", roles: [], token: "dev-ana-token" },
  { name: "ben", email: "ben@backroom.local", roles: [], token: "dev-ben-token" },
];

/** On a database without users, creates an admin and returns its new token; otherwise null. */
export function ensureFirstAdmin(services: Services): { email: string; token: string } | null {
  const users = services.model("users");
  if (users.list({ where: [], sort: [], limit: 1, offset: 0, skipTotal: true }).rows.length > 0) return null;
  return services.db.transaction(() => {
    const admin = users.create({ name: "admin", email: "admin@localhost", roles: ["admin"] }, { auth: null, services });
    return { email: "admin@localhost", token: services.tokens.issue(admin.id as string, "first admin").token };
  });
}

/** Adds the development users that are missing, with their fixed tokens. */
export function ensureDevUsers(services: Services): string[] {
  const users = services.model("users");
  const missing = () => DEV_USERS.filter((dev) => !users.list({ where: [[{ field: "email", op: "eq", value: dev.email }]], sort: [], limit: 1, offset: 0, skipTotal: true }).rows[0]);
  // Every start but the first finds them all: a read says so, without a write transaction.
  if (missing().length === 0) return [];
  const added: string[] = [];
  services.db.transaction(() => {
    for (const dev of missing()) {
      const user = users.create({ name: dev.name, email: dev.email, roles: dev.roles }, { auth: null, services });
      services.tokens.adopt(user.id as string, "development", dev.token);
      added.push(dev.email);
    }
  });
  return added;
}
