// `backroom jobs list|show|retry|cancel|purge`. Reads open the file read-only (they work while
// the server runs); changes need the file to themselves (stop the server first).
import { openDatabase } from "../db/open.ts";
import type { Condition } from "../db/list-query.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
import { storeMigrations } from "../store/app.ts";
import { UsageError, type FlagSpec, type FlagValues } from "./args.ts";

export const jobFlags: Record<string, FlagSpec> = {
  db: { type: "string", env: "BACKROOM_DB", default: "./backroom.db", help: "database file" },
  status: { type: "string", help: "list: only jobs in this state" },
  type: { type: "string", help: "list: only jobs of this type" },
  limit: { type: "number", default: 20, help: "list: how many (newest first)" },
  "older-than-days": { type: "number", default: 7, help: "purge: finished before this many days ago" },
};

type Print = (line: string) => void;

export async function jobsCommand(action: string | undefined, args: string[], flags: FlagValues, print: Print = console.log, progress: Print = (l) => process.stderr.write(l)): Promise<void> {
  const path = flags.db as string;
  if (action === "list" || action === "show") {
    const db = openDatabase(path, { readonly: true, migrations: storeMigrations });
    try {
      const queue = new SqliteQueue(db);
      if (action === "show") {
        const state = queue.getStatus(required(args[0], "jobs show <id>"));
        if (!state) throw new UsageError(`no job ${args[0]}`);
        return print(JSON.stringify(state, null, 2));
      }
      const where: Condition[][] = [];
      if (flags.status) where.push([{ field: "status", op: "eq", value: flags.status as string }]);
      if (flags.type) where.push([{ field: "type", op: "eq", value: flags.type as string }]);
      const { rows, total } = queue.listStatuses({ where, sort: [{ field: "created_at", direction: "desc" }], limit: flags.limit as number, offset: 0 });
      for (const r of rows) print(`${r.id}  ${String(r.type).padEnd(20)} ${String(r.status).padEnd(9)} attempts ${r.attempts}/${r.max_retry}  ${new Date(r.created_at as number).toISOString()}${r.error ? `  ${r.error}` : ""}`);
      return print(`${rows.length} of ${total} job(s)`);
    } finally {
      db.close();
    }
  }
  if (action !== "retry" && action !== "cancel" && action !== "purge") throw new UsageError("jobs needs one of: list, show, retry, cancel, purge");
  const db = openDatabase(path, { migrations: storeMigrations });
  try {
    const queue = new SqliteQueue(db);
    if (action === "retry") {
      const result = queue.retry(required(args[0], "jobs retry <id>"));
      if (result !== "retried") throw new UsageError(result === "not_found" ? `no job ${args[0]}` : `job ${args[0]} is not dead; only dead jobs can be retried`);
      return print(`job ${args[0]} queued again`);
    }
    if (action === "cancel") {
      const result = queue.cancel(required(args[0], "jobs cancel <id>"));
      if (result !== "cancelled") throw new UsageError(result === "not_found" ? `no job ${args[0]}` : result === "running" ? `job ${args[0]} is running and cannot be cancelled` : `job ${args[0]} has already finished`);
      return print(`job ${args[0]} cancelled`);
    }
    const before = Date.now() - (flags["older-than-days"] as number) * 86_400_000;
    let total = 0;
    for (let deleted = -1; deleted !== 0; ) {
      deleted = queue.pruneFinished(["succeeded", "cancelled", "dead"], before, 5_000);
      total += deleted;
      progress(`\rpurging finished jobs older than ${new Date(before).toISOString()}: ${total} deleted`);
      await Bun.sleep(0);
    }
    progress("\n");
    print(`purged ${total} job(s)`);
  } finally {
    db.close();
  }
}

function required(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(`usage: backroom ${usage}`);
  return value;
}
