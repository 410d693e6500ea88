// The entry of one sandbox thread (a Bun worker thread of the pool in sandbox-pool.ts): loads
// the app's sandboxed handler modules once, then runs one job at a time as the main thread
// asks, and answers with its result or its error (name, message, stack) by message.
//
// It must never write the database: the main thread keeps the one writer (claims, settles,
// group commit). A type that asked for read access gets a read-only connection on the same
// file (WAL: it reads committed data while the writer writes). This file is an entry point of
// its own in a compiled binary (scripts/compile.ts), so it imports only what a thread needs.
import { Database } from "bun:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import type { Job } from "./types.ts";
import { yieldToOtherThreads } from "./thread-priority.ts";
import type { SandboxContext, SandboxHandler, ThreadInit, ThreadReply, ThreadRequest } from "./sandbox-protocol.ts";

const port = parentPort!;
const init = workerData as ThreadInit;
const handlers = new Map<string, SandboxHandler>();
const controllers = new Map<number, AbortController>();
let db: Database | null = null;

// Below the thread that answers HTTP: when they compete for a core, the API wins (thread-priority.ts).
yieldToOtherThreads(init.nice);

try {
  for (const [type, spec] of Object.entries(init.types)) {
    let module: Record<string, unknown>;
    try {
      module = (await import(spec.module)) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`job type "${type}": cannot load its sandboxed module ${spec.module}: ${(error as Error)?.message ?? String(error)}`);
    }
    const handler = module[spec.exportName];
    if (typeof handler !== "function") {
      const exported = Object.keys(module).filter((name) => typeof module[name] === "function");
      throw new Error(`job type "${type}": ${spec.module} has no exported function "${spec.exportName}" (its exported functions: ${exported.join(", ") || "none"})`);
    }
    handlers.set(type, handler as SandboxHandler);
  }
  if (Object.values(init.types).some((spec) => spec.readDatabase)) {
    db = new Database(init.dbPath!, { readonly: true, strict: true });
    db.run("PRAGMA busy_timeout = 5000");
  }
  // The normal JIT for the handlers: a compiled binary starts with a reluctant one (scripts/compile.ts).
  Bun.unsafe.setJITPolicy(1);
  port.postMessage({ kind: "ready" } satisfies ThreadReply);
} catch (error) {
  port.postMessage({ kind: "init-failed", message: (error as Error).message } satisfies ThreadReply);
}

port.on("message", (request: ThreadRequest) => {
  if (request.kind === "abort") return controllers.get(request.id)?.abort(new Error(request.reason));
  void run(request.id, request.type, request.job);
});

async function run(id: number, type: string, job: Job): Promise<void> {
  const controller = new AbortController();
  controllers.set(id, controller);
  const spec = init.types[type]!;
  const context: SandboxContext = { signal: controller.signal, attempt: job.attempt, traceId: job.traceId, db: spec.readDatabase ? db : null, data: spec.data };
  let reply: ThreadReply;
  try {
    const result = await handlers.get(type)!(job, context);
    reply = { kind: "done", id, ok: true, result: result ?? {} };
  } catch (error) {
    reply = { kind: "done", id, ok: false, error: describe(error) };
  }
  controllers.delete(id);
  try {
    port.postMessage(reply);
  } catch (error) {
    // A function, a class instance with private state, a symbol…: it cannot leave the thread.
    const reason = (error as Error)?.message ?? String(error);
    port.postMessage({ kind: "done", id, ok: false, error: { name: "Error", message: `handler returned a result that cannot be sent from its thread (${reason}); return plain JSON data`, stack: null } } satisfies ThreadReply);
  }
}

function describe(error: unknown): { name: string; message: string; stack: string | null } {
  if (error instanceof Error) return { name: error.name, message: error.message || error.name, stack: error.stack ?? null };
  return { name: "Error", message: typeof error === "string" ? error : (JSON.stringify(error) ?? String(error)), stack: null };
}
