// The write pipeline: hooks registered for a model at a position (before or after the DB
// write), run INSIDE the write's transaction — so an after-hook that enqueues a job commits
// with the write or not at all (the seeds' Pipeline.Service.Register(…, ForModel("Order"),
// AtPosition(After))). Hooks are synchronous, like the transaction they run in.
import type { Hook, HookOptions, Position, WriteEvent, WriteHooks, WriteOperation } from "./services.ts";

interface Registration {
  hook: Hook;
  model: string | "*";
  position: Position;
  operations: readonly WriteOperation[];
}

export class Pipeline implements WriteHooks {
  private readonly registrations: Registration[] = [];

  /** Registers `hook` for a model (by name, or "*" for all) at a position; after by default. */
  register(hook: Hook, options: HookOptions): () => void {
    const registration: Registration = {
      hook,
      model: options.model,
      position: options.position ?? "after",
      operations: options.operations ?? ["create", "update", "delete"],
    };
    this.registrations.push(registration);
    return () => this.registrations.splice(this.registrations.indexOf(registration), 1);
  }

  /** Runs the matching hooks in registration order; a throw aborts the write (and rolls back). */
  run(position: Position, event: WriteEvent): void {
    for (const r of this.registrations) {
      if (r.position !== position || (r.model !== "*" && r.model !== event.model) || !r.operations.includes(event.operation)) continue;
      const result: unknown = r.hook(event);
      if (typeof (result as { then?: unknown } | undefined)?.then === "function") {
        throw new TypeError(`a ${position}-write hook on ${event.model} returned a promise: hooks run inside the transaction and must be synchronous`);
      }
    }
  }
}
