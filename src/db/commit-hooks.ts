// Callbacks that must run only once the work they describe is committed — publishing an event
// for a write, above all. Each transaction level (transaction, savepoint, group-commit unit)
// has a frame: on success its callbacks join the enclosing frame, on rollback they are
// dropped, and at the outermost commit they run. A write that rolls back publishes nothing.
export class CommitHooks {
  private readonly frames: (() => void)[][] = [];

  /** Runs `callback` after the current transaction commits; at once if none is open. */
  add(callback: () => void): void {
    const top = this.frames.at(-1);
    if (top) top.push(callback);
    else queueMicrotask(callback);
  }

  open(): void {
    this.frames.push([]);
  }

  /** The current level succeeded: its callbacks join the enclosing level, or are returned to be run after COMMIT. */
  close(): (() => void)[] {
    const frame = this.frames.pop() ?? [];
    const parent = this.frames.at(-1);
    if (!parent) return frame;
    parent.push(...frame);
    return [];
  }

  /** The current level rolled back: its callbacks are dropped. */
  discard(): void {
    this.frames.pop();
  }

  get depth(): number {
    return this.frames.length;
  }
}

/** Runs callbacks after a commit; one that throws does not stop the others (it is reported). */
export function runCommitted(callbacks: readonly (() => void)[], onError: (error: unknown) => void = (e) => console.error(e)): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      onError(error);
    }
  }
}
