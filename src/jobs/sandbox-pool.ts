// The pool of sandbox threads: sandboxed job types run here, off the thread that answers HTTP.
// To the worker a sandboxed type is an ordinary Handler (handlers()): claims, settles, leases,
// retries and group commit stay on the main thread, which keeps the one SQLite writer.
//
// Invariants:
// - A thread runs one job at a time; jobs beyond the free threads wait here in order. A job's
//   timeout counts from when a thread takes it, not from its claim (the handlers time
//   themselves: Handler.timesItself), so a wait behind a long job never eats its time.
// - An attempt aborted (timeout, shutdown) fails at once; its thread is told, and terminated
//   if it has not answered within `abortGraceMs` (a handler in an endless loop cannot stop
//   itself), then replaced. A thread that crashes (uncaught error, process.exit) fails its job
//   and is replaced. Nothing here ever blocks the main thread.
// - Every module and export is loaded and checked by each thread before open() resolves, so a
//   wrong path or export stops the start, not the first job.
import type { Worker } from "node:worker_threads";
import { errorMessage, type Logger } from "../log.ts";
import { PermanentJobError, type Handler, type JobContext } from "./attempt.ts";
import { compiledSandboxes, moduleHref, threadEntry } from "./sandbox-modules.ts";
import type { SandboxModule, ThreadInit, ThreadReply } from "./sandbox-protocol.ts";
import type { Job, Result } from "./types.ts";

export interface SandboxPoolOptions {
  /** Sandboxed job types and where their handlers live. */
  types: Record<string, SandboxModule>;
  /** Threads. Default: one less than the CPUs (at least 1), so one core stays with the API. */
  size?: number;
  /** The database file, for types that read it (readDatabase); null when there is none (memory). */
  dbPath?: string | null;
  logger: Logger;
  /** 0: threads at normal priority. Above (default 10): they yield the CPU to the thread that answers HTTP: SCHED_IDLE on Linux, else this nice value (thread-priority.ts). */
  nice?: number;
  /** How long an aborted handler may take to end on its own before its thread is terminated. Default 50 ms. */
  abortGraceMs?: number;
}

interface Task {
  id: number;
  type: string;
  job: Job;
  timeoutMs: number | null;
  timer: Timer | null;
  resolve(result: Result): void;
  reject(error: Error): void;
  settled: boolean;
}

interface Thread {
  worker: Worker;
  task: Task | null;
  ready: boolean;
  /** Set when we end it (terminate, close): its exit is not a crash. */
  ending: boolean;
  killTimer: Timer | null;
}

export class SandboxStartError extends Error {
  override name = "SandboxStartError";
}

export class SandboxPool {
  readonly size: number;
  private readonly threads = new Set<Thread>();
  private readonly waiting: Task[] = [];
  private readonly abortGraceMs: number;
  private nextId = 1;
  private closed = false;
  private replacements = 0;

  private constructor(
    private readonly init: ThreadInit,
    private readonly options: SandboxPoolOptions,
    private readonly Thread: typeof Worker,
  ) {
    this.size = Math.max(1, options.size ?? Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1));
    this.abortGraceMs = options.abortGraceMs ?? 50;
  }

  /** Starts the threads and resolves once every one has loaded every module; rejects with a SandboxStartError otherwise. */
  static async open(options: SandboxPoolOptions): Promise<SandboxPool> {
    const types: ThreadInit["types"] = {};
    for (const [type, spec] of Object.entries(options.types)) {
      if (spec.readDatabase && !options.dbPath) throw new SandboxStartError(`job type "${type}" reads the database from its thread, which needs a database file (not memory)`);
      types[type] = { module: resolveModule(type, spec.module), exportName: spec.export ?? "default", readDatabase: spec.readDatabase === true, data: spec.data };
    }
    // Loaded here, not at the top: node:worker_threads costs every start ~5 ms, and most apps have no sandboxed type.
    const { Worker } = await import("node:worker_threads");
    const pool = new SandboxPool({ types, dbPath: options.dbPath ?? null, nice: Math.min(19, Math.max(0, options.nice ?? 10)) }, options, Worker);
    try {
      await Promise.all(Array.from({ length: pool.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** A worker Handler for each sandboxed type: each call runs the job in a thread. A thrown
   * error comes back with the thread's stack, so the attempt's history keeps it. */
  handlers(): Record<string, Handler> {
    const handler = (type: string): Handler => Object.assign((job: Job, context: JobContext) => this.run(type, job, context.signal, context.timeoutMs), { timesItself: true });
    return Object.fromEntries(Object.keys(this.init.types).map((type) => [type, handler(type)]));
  }

  /**
   * Runs one job of `type` in a thread; rejects with the handler's error (its name, message and
   * stack), or when `timeoutMs` has passed since a thread took it (the thread is then told to
   * stop, and terminated if it does not).
   */
  run(type: string, job: Job, signal?: AbortSignal, timeoutMs: number | null = null): Promise<Result> {
    if (this.closed) return Promise.reject(new Error("sandbox pool is closed"));
    if (!this.init.types[type]) return Promise.reject(new Error(`job type "${type}" is not sandboxed`));
    return new Promise<Result>((resolve, reject) => {
      const task: Task = { id: this.nextId++, type, job, timeoutMs, timer: null, resolve, reject, settled: false };
      if (signal?.aborted) return this.settle(task, null, abortError(signal));
      signal?.addEventListener("abort", () => this.abort(task, abortError(signal)), { once: true });
      this.waiting.push(task);
      this.dispatch();
    });
  }

  /** Threads replaced so far, after a crash or a termination. */
  get replaced(): number {
    return this.replacements;
  }

  /** Threads started and ready for jobs (a replaced thread counts again once it has loaded its modules). */
  get readyCount(): number {
    let ready = 0;
    for (const thread of this.threads) if (thread.ready && !thread.ending) ready++;
    return ready;
  }

  /** Threads running a job now. */
  get busyCount(): number {
    let busy = 0;
    for (const thread of this.threads) if (thread.task) busy++;
    return busy;
  }

  /** Terminates every thread; jobs still waiting or running fail (the worker has already released them on shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) this.settle(task, null, new Error("sandbox pool closed"));
    const exits: Promise<unknown>[] = [];
    for (const thread of this.threads) {
      if (thread.task) this.settle(thread.task, null, new Error("sandbox pool closed"));
      exits.push(this.end(thread));
    }
    await Promise.all(exits);
  }

  // ── threads ────────────────────────────────────────────────────────────────────────────

  private spawn(): Promise<void> {
    const worker = new this.Thread(threadEntry(), { workerData: this.init });
    const thread: Thread = { worker, task: null, ready: false, ending: false, killTimer: null };
    this.threads.add(thread);
    return new Promise<void>((resolve, reject) => {
      let crash: string | null = null;
      worker.on("message", (reply: ThreadReply) => {
        if (reply.kind === "ready") {
          thread.ready = true;
          resolve();
          this.dispatch();
        } else if (reply.kind === "init-failed") {
          reject(new SandboxStartError(reply.message));
          void this.end(thread);
        } else this.finished(thread, reply);
      });
      worker.on("error", (error: Error) => {
        crash = errorMessage(error);
      });
      worker.on("exit", (code: number) => {
        this.threads.delete(thread);
        if (thread.killTimer) clearTimeout(thread.killTimer);
        const reason = crash ?? `the thread exited (code ${code})`;
        if (!thread.ready) reject(new SandboxStartError(`a sandbox thread failed to start: ${reason}`));
        if (thread.ending) return;
        this.options.logger.log("error", "sandbox thread crashed; replacing it", { error: reason, job_id: thread.task?.job.id });
        if (thread.task) this.settle(thread.task, thread, new Error(`sandbox thread crashed: ${reason}`));
        this.replace();
      });
    });
  }

  /** Starts a thread in place of one that ended; if it cannot start, tries again a second later. */
  private replace(): void {
    if (this.closed) return;
    this.replacements++;
    this.spawn().catch((error) => {
      if (this.closed) return;
      this.options.logger.log("error", "could not start a sandbox thread; trying again in 1 s", { error: errorMessage(error) });
      setTimeout(() => this.replace(), 1_000);
    });
  }

  private end(thread: Thread): Promise<unknown> {
    thread.ending = true;
    if (thread.killTimer) clearTimeout(thread.killTimer);
    this.threads.delete(thread);
    return Promise.resolve(thread.worker.terminate());
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.waiting.length === 0) return;
      if (!thread.ready || thread.task || thread.ending) continue;
      const task = this.waiting.shift()!;
      thread.task = task;
      if (task.timeoutMs !== null) task.timer = setTimeout(() => this.abort(task, new Error(`timed out after ${task.timeoutMs} ms`)), task.timeoutMs);
      thread.worker.postMessage({ kind: "run", id: task.id, type: task.type, job: task.job });
    }
  }

  private finished(thread: Thread, reply: ThreadReply & { kind: "done" }): void {
    const task = thread.task;
    if (!task || task.id !== reply.id) return;
    if (thread.killTimer) clearTimeout(thread.killTimer);
    thread.killTimer = null;
    thread.task = null;
    if (reply.ok) this.settle(task, null, null, reply.result);
    else this.settle(task, null, rebuild(reply.error));
    this.dispatch();
  }

  private abort(task: Task, reason: Error): void {
    if (task.settled) return;
    const queued = this.waiting.indexOf(task);
    if (queued >= 0) this.waiting.splice(queued, 1);
    this.settle(task, null, reason);
    const thread = [...this.threads].find((t) => t.task === task);
    if (!thread) return;
    // Let the handler see its signal; if it has not ended by then (an endless loop cannot), the
    // thread is terminated and replaced.
    thread.worker.postMessage({ kind: "abort", id: task.id, reason: reason.message });
    thread.killTimer = setTimeout(() => {
      if (thread.task !== task) return;
      this.options.logger.log("warn", "sandboxed handler did not stop when aborted; its thread is terminated", { job_id: task.job.id, type: task.type });
      void this.end(thread);
      this.replace();
    }, this.abortGraceMs);
  }

  private settle(task: Task, thread: Thread | null, error: Error | null, result?: Result): void {
    if (thread) thread.task = null;
    if (task.settled) return;
    task.settled = true;
    if (task.timer) clearTimeout(task.timer);
    if (error) task.reject(error);
    else task.resolve(result!);
  }
}

/** The handler's error as thrown in its thread: same name, message and stack. */
function rebuild(error: { name: string; message: string; stack: string | null }): Error {
  const rebuilt = error.name === "PermanentJobError" ? new PermanentJobError(error.message) : new Error(error.message);
  rebuilt.name = error.name;
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

/** The module's URL as a thread imports it; in a compiled binary, the copy compiled into it. */
function resolveModule(type: string, module: URL | string): string {
  try {
    const href = moduleHref(type, module);
    return compiledSandboxes()?.locate(type, href) ?? href;
  } catch (error) {
    throw new SandboxStartError(errorMessage(error));
  }
}
