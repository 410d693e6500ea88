export * from "./types.ts";
export type { Queue, Source, Cancellable, CancelResult, Retryable, RetryResult, StatusReader, StatusSink, StatusChange, Outcome, Awaitable } from "./queue.ts";
export { STATUS_COLUMNS, stateToStatusRow, type StatusRow } from "./status-columns.ts";
export { SqliteQueue, jobsMigrations } from "./sqlite.ts";
export { MemoryQueue } from "./memory.ts";
export { Worker, type Handler, type JobContext, type WorkerOptions } from "./worker.ts";
export { backoffDelay, afterFailure, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
export { InvalidJobError } from "./new-job.ts";
export type { DeadLetterPayload } from "./dead-letter.ts";
