// Fresh database files for benchmarks, in one folder removed at exit.
import { mkdirSync, rmSync } from "node:fs";
import { openDatabase, type Db, type Migration, type Synchronous } from "../../src/db/index.ts";

export const BENCH_DIR = `${process.env.TMPDIR ?? "/tmp"}/backroom-bench-${process.pid}`;
mkdirSync(BENCH_DIR, { recursive: true });
process.on("exit", () => rmSync(BENCH_DIR, { recursive: true, force: true }));

export function freshPath(name: string): string {
  const path = `${BENCH_DIR}/${name}.db`;
  for (const suffix of ["", "-wal", "-shm", "-lock", "-lock-journal"]) rmSync(path + suffix, { force: true });
  return path;
}

export function freshDb(name: string, synchronous: Synchronous, migrations: Migration[] = []): Db {
  return openDatabase(freshPath(name), { synchronous, migrations });
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
export const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;
export const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000));
