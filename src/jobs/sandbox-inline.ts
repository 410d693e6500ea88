// Sandboxed job types run in-process, for tests (backroom/testing): the module's export is
// called on this thread with the same context a sandbox thread gives, so drain() stays
// deterministic and a test needs no threads. Never used to serve: it gives up what the pool
// is for (a runaway handler here blocks everything).
import type { Database } from "bun:sqlite";
import type { Handler } from "./attempt.ts";
import { moduleHref } from "./sandbox-modules.ts";
import type { SandboxHandler, SandboxModule } from "./sandbox-protocol.ts";

export function inlineSandboxHandlers(types: Record<string, SandboxModule>, db: Database | null): Record<string, Handler> {
  return Object.fromEntries(
    Object.entries(types).map(([type, spec]) => {
      const href = moduleHref(type, spec.module);
      let loaded: Promise<SandboxHandler> | null = null;
      const load = async () => {
        const handler = ((await import(href)) as Record<string, unknown>)[spec.export ?? "default"];
        if (typeof handler !== "function") throw new Error(`job type "${type}": ${href} has no exported function "${spec.export ?? "default"}"`);
        return handler as SandboxHandler;
      };
      const handler: Handler = async (job, context) =>
        (await (loaded ??= load()))(structuredClone(job), { signal: context.signal, attempt: context.attempt, traceId: context.traceId, db: spec.readDatabase ? db : null, data: structuredClone(spec.data) });
      return [type, handler];
    }),
  );
}
