// "backroom/postgres": the PostgreSQL job queue (many worker processes on one queue), and the
// store-and-forward queue of a till whose jobs run there (its file stays the outbox).
export { PostgresQueue, type PostgresQueueOptions } from "../jobs/postgres.ts";
export { ForwardingQueue } from "../jobs/forwarding-queue.ts";
export { Forwarder, type ForwarderOptions } from "../jobs/forwarder.ts";
// Job events written with each settle, for an OutboxBus on a network bus (docs/events.md).
export { PostgresEventOutbox, type PostgresEventOutboxOptions } from "../events/postgres-outbox.ts";
