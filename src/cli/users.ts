// `backroom user add|list|token`: manage users and tokens on the database file, e.g. to create
// the first admin of a new till. Needs the file to itself (stop the server first).
import { openDatabase } from "../db/open.ts";
import { MemoryQueue } from "../jobs/memory.ts";
import { silentLogger } from "../log.ts";
import type { Model } from "../models/model.ts";
import { createModelLayer } from "../models/model-layer.ts";
import { migrationsOf, type AppDefinition } from "../runtime/define.ts";
import { UsageError, type FlagValues } from "./args.ts";


export function userCommand(app: AppDefinition, action: string | undefined, flags: FlagValues, print: (line: string) => void = console.log): void {
  if (!action || !["add", "list", "token"].includes(action)) throw new UsageError("user needs one of: add, list, token");
  const db = openDatabase(flags.db as string, { migrations: migrationsOf(app) });
  try {
    // The queue is not used by these commands; the model layer gives us the validated user store.
    const { services } = createModelLayer({ db, queue: new MemoryQueue(), models: [...(app.models ?? [])] as Model[], webhooks: false, logger: silentLogger });
    const users = services.model("users");
    const byEmail = (email: string) => users.list({ where: [[{ field: "email", op: "eq", value: email }]], sort: [], limit: 1, offset: 0 }).rows[0];
    if (action === "list") {
      const { rows } = users.list({ where: [], sort: [{ field: "created_at", direction: "asc" }], limit: 100, offset: 0 });
      if (flags.json) return print(JSON.stringify(rows, null, 2));
      for (const u of rows) {
        print(`${u.id}  ${String(u.email).padEnd(30)} ${String(u.name).padEnd(20)} ${(u.roles as string[]).join(",") || "-"}`);
      }
      return;
    }
    const email = required(flags, "email");
    if (action === "add") {
      const roles = (flags.role as string[] | undefined) ?? [];
      const { user, token } = db.transaction(() => {
        const user = users.create({ name: required(flags, "name"), email, roles }, { auth: null, services });
        return { user, token: services.tokens.issue(user.id as string, "cli").token };
      });
      print(`added user ${user.id} <${email}>${roles.length ? ` with roles ${roles.join(", ")}` : ""}`);
      print(`token (shown only now): ${token}`);
      return;
    }
    const user = byEmail(email);
    if (!user) throw new Error(`no user with e-mail ${email}`);
    print(`token for ${email} (shown only now): ${services.tokens.issue(user.id as string, "cli").token}`);
  } finally {
    db.close();
  }
}

function required(flags: FlagValues, name: string): string {
  const value = flags[name];
  if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
  return value;
}
