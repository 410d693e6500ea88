// What a sandboxed handler is, and the messages between the pool (main thread) and its threads.
// Types only: the thread entry imports this file without pulling in the runtime.
import type { Database } from "bun:sqlite";
import type { Job, Result } from "./types.ts";

/** Where a sandboxed job type's handler lives: a module and one of its exported functions. */
export interface SandboxModule {
  /** The module: a URL (`new URL("./render.ts", import.meta.url)`), a file: URL string or an absolute path. */
  module: URL | string;
  /** The exported function's name. Default "default". */
  export?: string;
  /** Give the handler its own read-only connection on the database file (context.db). Default false. */
  readDatabase?: boolean;
  /** Plain data handed to every call as context.data (copied to each thread once). */
  data?: unknown;
}

/** What a sandboxed handler gets beside its job. */
export interface SandboxContext {
  /** Aborted when the attempt times out or shutdown ends its grace; the thread is terminated shortly after. */
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly traceId: string | null;
  /** A read-only connection on the app's database file, if the type asked for it (readDatabase). */
  readonly db: Database | null;
  /** The type's `data`, as declared. */
  readonly data: unknown;
}

/** A handler that runs in a sandbox thread: it returns (or throws) plain data, by message. */
export type SandboxHandler = (job: Job, context: SandboxContext) => Result | void | Promise<Result | void>;

/** Each thread's start-up data (workerData). */
export interface ThreadInit {
  types: Record<string, { module: string; exportName: string; readDatabase: boolean; data: unknown }>;
  dbPath: string | null;
  /** The threads' CPU priority: 0 leaves it; above, SCHED_IDLE on Linux, else this nice value (0–19). */
  nice: number;
}

export type ThreadRequest = { kind: "run"; id: number; type: string; job: Job } | { kind: "abort"; id: number; reason: string };

export type ThreadReply =
  | { kind: "ready" }
  | { kind: "init-failed"; message: string }
  | { kind: "done"; id: number; ok: true; result: Result }
  | { kind: "done"; id: number; ok: false; error: { name: string; message: string; stack: string | null } };
