// The producer side shared by the queues that answer synchronously (SQLite, memory): each
// enqueue is one insert, a batch is atomic, and workers are woken once the caller's
// synchronous transaction is over.
import { AvailabilitySignal } from "./availability.ts";
import type { Queue } from "./queue.ts";
import type { NewJob } from "./types.ts";

/**
 * What code running inside a synchronous SQLite transaction needs of a queue: an enqueue that
 * answers at once and joins that transaction. The SQLite and memory queues are one; so is
 * the forwarding queue, whose outbox is the SQLite queue (src/jobs/forwarding-queue.ts).
 */
export interface SyncEnqueue {
  enqueue(job: NewJob): string;
  enqueueAt(at: number | Date, job: NewJob): string;
  enqueueMany(jobs: readonly NewJob[]): string[];
  onAvailable(listener: () => void): () => void;
}

export abstract class SyncQueue implements Queue, SyncEnqueue {
  private readonly available = new AvailabilitySignal();
  abstract readonly transactionalEnqueue: boolean;

  /** Stores one job (or finds the unfinished one with its unique key) and returns its id. */
  protected abstract insert(job: NewJob): string;
  /** Runs `fn` so that a throw leaves no trace of it. */
  protected abstract atomically<T>(fn: () => T): T;

  enqueue(job: NewJob): string {
    const id = this.insert(job);
    this.available.notify();
    return id;
  }

  enqueueAt(at: number | Date, job: NewJob): string {
    return this.enqueue({ ...job, notBefore: at });
  }

  enqueueMany(jobs: readonly NewJob[]): string[] {
    const ids = this.atomically(() => jobs.map((job) => this.insert(job)));
    this.available.notify();
    return ids;
  }

  onAvailable(listener: () => void): () => void {
    return this.available.subscribe(listener);
  }

  /** Tells workers that jobs may have become claimable (a cancel released a group key, …). */
  protected notifyAvailable(): void {
    this.available.notify();
  }
}
