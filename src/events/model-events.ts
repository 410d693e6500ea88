// Model-write events (the seeds' service.Emit, at the DB-after position): `{model}.created`,
// `{model}.updated`, `{model}.deleted` with the record, published only after the write's
// transaction commits — a rolled-back write publishes nothing.
import type { Model } from "../api/model.ts";
import type { Pipeline, WriteEvent } from "../api/pipeline.ts";
import { errorMessage } from "../log.ts";
import type { EventBus } from "./bus.ts";
import { createEvent, type Event, type Visibility } from "./event.ts";

const PAST = { create: "created", update: "updated", delete: "deleted" } as const;

/** Who may see a model's events over realtime: the same people who may read its records. */
export function modelVisibility(model: Model): Visibility {
  if (model.ownerField) return "owner";
  const read = model.access.get;
  return read === "public" || read === "user" ? "all" : "admin";
}

/** The envelope for one write (also what a webhook delivers, so both share its id). */
export function modelEvent(model: Model, write: WriteEvent): Event {
  const record = write.record;
  // A row hidden from non-admins (a draft) has events for admins only, whoever may read the model.
  const hidden = model.visible !== null && Object.entries(model.visible).some(([field, value]) => record[field] !== value);
  const owner = model.ownerField ? (record[model.ownerField] as string | null) : null;
  return createEvent(`${model.name.toLowerCase()}.${PAST[write.operation]}`, record, {
    subject: String(record.id),
    traceparent: write.traceparent,
    actorId: owner ?? write.auth?.id ?? null,
    visibility: hidden ? "admin" : modelVisibility(model),
  });
}

/**
 * Registers the emitter for every model given: each write's event is built inside the
 * transaction — `onEvent` sees it there (webhooks enqueue their deliveries with it) — and
 * published on the bus after commit.
 */
export function emitModelEvents(pipeline: Pipeline, models: readonly Model[], options: { bus?: EventBus | null; onEvent?: (event: Event) => void }): void {
  const byName = new Map(models.map((m) => [m.name, m]));
  pipeline.register(
    (write) => {
      const model = byName.get(write.model);
      if (!model) return;
      const event = modelEvent(model, write);
      options.onEvent?.(event);
      const bus = options.bus;
      if (bus) write.services.db.afterCommit(() => void bus.publishEvent(event).catch((error) => write.services.logger.log("error", "could not publish an event", { type: event.type, error: errorMessage(error) })));
    },
    { model: "*", position: "after" },
  );
}
