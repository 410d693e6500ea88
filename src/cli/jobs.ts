// `backroom jobs list|show|retry|cancel|purge`, on the database file or, with --queue
// postgres://…, on the shared queue tills forward their jobs to. A job is shown as the REST
// API shows it to an admin (its serializer, not a second one). Usage mistakes throw
// UsageError (exit 2); a job that is missing or in the wrong state is a failure (exit 1).
import { SQL } from "bun";
import { attemptsToJson, jobStatusToJson } from "../api/job-status-routes.ts";
import { openDatabase } from "../db/open.ts";
import type { Condition } from "../db/list-query.ts";
import { PostgresQueue } from "../jobs/postgres.ts";
import type { Cancellable, Prunable, QueueControl, Retryable, StatusReader } from "../jobs/queue.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
import { stateToStatusRow } from "../jobs/status-columns.ts";
import { migrationsOf, type AppDefinition } from "../runtime/define.ts";
import { checkPostgresUrl } from "../runtime/job-backend.ts";
import { UsageError, type FlagValues } from "./args.ts";


type Print = (line: string) => void;
/** Where progress goes: rewritten in place (\r) on a terminal, one line per step otherwise (a log file). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}
type JobsTarget = StatusReader & Cancellable & Retryable & Prunable & QueueControl;

export async function jobsCommand(app: AppDefinition, action: string | undefined, args: string[], flags: FlagValues, print: Print = console.log, progress: ProgressStream = process.stderr): Promise<void> {
  if (!["list", "show", "retry", "cancel", "purge"].includes(action ?? "")) throw new UsageError("jobs needs one of: list, show, retry, cancel, purge");
  const { queue, close } = await openTarget(app, flags, action === "list" || action === "show");
  try {
    if (action === "show") {
      const state = await queue.getStatus(required(args[0], "jobs show <id>"));
      if (!state) throw new Error(`no job ${args[0]}`);
      return print(JSON.stringify({ ...jobStatusToJson(stateToStatusRow(state), true), attempts_history: attemptsToJson(state.attemptsHistory) }, null, 2));
    }
    if (action === "list") {
      const where: Condition[][] = [];
      if (flags.status) where.push([{ field: "status", op: "eq", value: flags.status as string }]);
      if (flags.type) where.push([{ field: "type", op: "eq", value: flags.type as string }]);
      const { rows, total } = await queue.listStatuses({ where, sort: [{ field: "created_at", direction: "desc" }], limit: flags.limit as number, offset: 0 });
      if (flags.json) return print(JSON.stringify(rows.map((r) => jobStatusToJson(r, true)), null, 2));
      for (const r of rows) print(`${r.id}  ${String(r.type).padEnd(20)} ${String(r.status).padEnd(9)} attempts ${r.attempts}/${r.max_retry}  ${new Date(r.created_at as number).toISOString()}${r.error ? `  ${r.error}` : ""}`);
      return print(`${rows.length} of ${total} job(s)`);
    }
    if (action === "retry") {
      const result = await queue.retry(required(args[0], "jobs retry <id>"));
      if (result !== "retried") throw new Error(result === "not_found" ? `no job ${args[0]}` : `job ${args[0]} is not dead; only dead jobs can be retried`);
      return print(`job ${args[0]} queued again`);
    }
    if (action === "cancel") {
      const result = await queue.cancel(required(args[0], "jobs cancel <id>"));
      if (result !== "cancelled") throw new Error(result === "not_found" ? `no job ${args[0]}` : result === "running" ? `job ${args[0]} is running and cannot be cancelled` : `job ${args[0]} has already finished`);
      return print(`job ${args[0]} cancelled`);
    }
    const before = Date.now() - (flags["older-than-days"] as number) * 86_400_000;
    let total = 0;
    const report = () => {
      const line = `purging finished jobs older than ${new Date(before).toISOString()}: ${total} deleted`;
      progress.write(progress.isTTY ? `\r${line}` : `${line}\n`);
    };
    for (let deleted = -1; deleted !== 0; ) {
      deleted = await queue.pruneFinished(["succeeded", "cancelled", "dead"], before, 5_000);
      total += deleted;
      if (deleted > 0 || total === 0) report();
      await Bun.sleep(0);
    }
    if (progress.isTTY) progress.write("\n");
    print(`purged ${total} job(s)`);
  } finally {
    await close();
  }
}

/**
 * The file (read-only for reads, so they work while the server runs; changes need the file to
 * themselves), or a shared PostgreSQL queue, which any number of processes may act on at once.
 */
export async function openTarget(app: AppDefinition, flags: FlagValues, readOnly: boolean): Promise<{ queue: JobsTarget; close: () => Promise<void> | void }> {
  const url = flags.queue as string | undefined;
  if (!url || url === "sqlite") {
    const db = openDatabase(flags.db as string, { readonly: readOnly, migrations: migrationsOf(app) });
    return { queue: new SqliteQueue(db), close: () => db.close() };
  }
  checkPostgresUrl(url);
  const sql = new SQL(url, { max: 1, connectionTimeout: 10 });
  try {
    const [found] = (await sql`SELECT to_regclass('backroom_jobs') IS NOT NULL AS present`) as { present: boolean }[];
    if (!found?.present) throw new Error("that database has no Backroom queue (table backroom_jobs): no till has forwarded to it yet");
  } catch (error) {
    await sql.close();
    throw error;
  }
  return { queue: new PostgresQueue({ sql, partition: (flags.node as string | undefined) ?? "" }), close: () => sql.close() };
}

function required(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(`usage: backroom ${usage}`);
  return value;
}
