// `backroom migrate`, `schedules list`, `backup <file>` and `doctor`.
import { existsSync, rmSync, statfsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { openDatabase } from "../db/open.ts";
import { appliedVersions, pendingComponents } from "../db/migrations.ts";
import { createPrivateFile } from "../db/private-files.ts";
import { rowToSchedule, type ScheduleRow } from "../cron/store.ts";
import { scheduleToJson } from "../api/schedule-routes.ts";
import { migrationsOf, type AppDefinition } from "../runtime/define.ts";
import { UsageError, type FlagValues } from "./args.ts";



type Print = (line: string) => void;

export function migrateCommand(app: AppDefinition, flags: FlagValues, print: Print = console.log): void {
  const db = openDatabase(flags.db as string, { migrations: migrationsOf(app) });
  const versions = [...appliedVersions(db.sqlite)].map(([c, v]) => `${c} ${v}`).join(", ");
  db.close();
  print(`schema is current (${versions})`);
}

export function schedulesCommand(app: AppDefinition, action: string | undefined, flags: FlagValues, print: Print = console.log): void {
  if (action !== "list") throw new UsageError("schedules needs: list");
  const db = openDatabase(flags.db as string, { readonly: true, migrations: migrationsOf(app) });
  try {
    const rows = (db.sqlite.query("SELECT * FROM schedules ORDER BY name").all() as ScheduleRow[]).map(rowToSchedule);
    if (flags.json) return print(JSON.stringify(rows.map(scheduleToJson), null, 2));
    const iso = (t: number | null) => (t === null ? "-" : new Date(t).toISOString());
    for (const s of rows) print(`${s.name.padEnd(20)} ${s.schedule.padEnd(16)} ${(s.timezone ?? "local").padEnd(14)} ${s.paused ? "paused " : "active "} next ${iso(s.nextFireAt)}  last ${iso(s.lastFiredAt)}  → ${s.type}`);
    print(`${rows.length} schedule(s)`);
  } finally {
    db.close();
  }
}

/** An online, consistent copy with VACUUM INTO, from a read-only connection: works while serving. */
export function backupCommand(app: AppDefinition, target: string | undefined, flags: FlagValues, print: Print = console.log, progress: Print = (l) => process.stderr.write(l)): void {
  if (!target) throw new UsageError("usage: backroom backup <file>");
  // The file named exists, or its folder does not: not a misuse of the command, a failure (exit 1).
  if (existsSync(target)) throw new Error(`${target} already exists; choose a new file`);
  if (!existsSync(dirname(resolve(target)))) throw new Error(`directory ${dirname(resolve(target))} does not exist`);
  const db = openDatabase(flags.db as string, { readonly: true, migrations: migrationsOf(app) });
  try {
    const size = statSync(flags.db as string).size;
    progress(`backing up ${flags.db} (${(size / 1e6).toFixed(1)} MB) to ${target}…`);
    const started = performance.now();
    // A backup holds what the database holds (customers' e-mails, webhook secrets): created
    // 0600 here, as an empty file, which VACUUM INTO accepts as its target.
    if (!createPrivateFile(target)) throw new Error(`${target} already exists; choose a new file`);
    try {
      db.sqlite.query("VACUUM INTO ?").run(target);
    } catch (error) {
      rmSync(target, { force: true });
      throw error;
    }
    progress(` done in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
    print(`backup written to ${target} (${(statSync(target).size / 1e6).toFixed(1)} MB)`);
  } finally {
    db.close();
  }
}

/** Checks what an operator would check first; exits non-zero when anything is wrong. */
export async function doctorCommand(app: AppDefinition, flags: FlagValues, print: Print = console.log): Promise<boolean> {
  const path = flags.db as string;
  const results: [string, boolean, string][] = [];
  const check = async (name: string, fn: () => string | Promise<string>) => {
    try {
      results.push([name, true, await fn()]);
    } catch (error) {
      results.push([name, false, (error as Error).message]);
    }
  };
  await check("database file", () => {
    if (!existsSync(path)) throw new Error(`${path} does not exist`);
    return `${path} (${(statSync(path).size / 1e6).toFixed(1)} MB)`;
  });
  if (existsSync(path)) {
    const db = openDatabase(path, { readonly: true, migrations: migrationsOf(app) });
    try {
      await check("integrity", () => {
        const result = (db.sqlite.query("PRAGMA quick_check").get() as Record<string, string>)["quick_check"];
        if (result !== "ok") throw new Error(`quick_check: ${result}`);
        return "ok";
      });
      await check("schema version", () => {
        const pending = pendingComponents(db.sqlite, migrationsOf(app));
        if (pending.length) throw new Error(`behind this release: ${pending.join(", ")} (run backroom migrate)`);
        return [...appliedVersions(db.sqlite)].map(([c, v]) => `${c} ${v}`).join(", ");
      });
      await check("WAL", () => {
        const mode = (db.sqlite.query("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode;
        if (mode !== "wal") throw new Error(`journal mode is ${mode}, expected wal`);
        const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
        return `wal mode, log ${(wal / 1e6).toFixed(1)} MB`;
      });
    } finally {
      db.close();
    }
  }
  await check("disk space", () => {
    const fs = statfsSync(dirname(resolve(path)));
    const free = fs.bavail * fs.bsize;
    if (free < 100e6) throw new Error(`only ${(free / 1e6).toFixed(0)} MB free`);
    return `${(free / 1e9).toFixed(1)} GB free`;
  });
  if (flags.smtp) {
    await check("SMTP", async () => {
      const nodemailer = (await import("nodemailer")).default;
      const transport = nodemailer.createTransport({ url: flags.smtp as string, connectionTimeout: 5_000, greetingTimeout: 5_000, socketTimeout: 5_000 });
      try {
        await transport.verify();
      } finally {
        transport.close();
      }
      return `${new URL(flags.smtp as string).host} answers`;
    });
  }
  for (const [name, ok, detail] of results) print(`${ok ? "ok  " : "FAIL"}  ${name.padEnd(15)} ${detail}`);
  return results.every(([, ok]) => ok);
}
