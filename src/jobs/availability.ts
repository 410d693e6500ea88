// Wake-up signal from a queue to its workers: "jobs may be claimable now".
//
// Signals are coalesced into one call per microtask. That also makes them safe inside a
// caller's transaction: the transaction is synchronous, so by the time the microtask runs
// it has committed (or rolled back, and the woken worker simply finds nothing).
export class AvailabilitySignal {
  private listeners = new Set<() => void>();
  private pending = false;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify(): void {
    if (this.pending || this.listeners.size === 0) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const listener of this.listeners) listener();
    });
  }
}
