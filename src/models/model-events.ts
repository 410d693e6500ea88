// Model-write events (the seeds' service.Emit, at the DB-after position): `{model}.created`,
// `{model}.updated`, `{model}.deleted` with the record, published only after the write's
// transaction commits — a rolled-back write publishes nothing. On a network bus the event is
// written to the durable outbox inside the write's transaction instead (src/events/outbox.ts):
// it exists exactly when the write does, and a crash before the broker took it loses nothing.
import type { EventBus } from "../events/bus.ts";
import { createEvent, type Event, type Visibility } from "../events/event.ts";
import { keepsEvents } from "../events/outbox-bus.ts";
import { errorMessage } from "../log.ts";
import type { Model } from "./model.ts";
import type { WriteEvent, WriteHooks } from "./services.ts";

const PAST = { create: "created", update: "updated", delete: "deleted" } as const;

/** Who may see a model's events over realtime: the same people who may read its records. */
export function modelVisibility(model: Model): Visibility {
  if (model.ownerField) return "owner";
  const read = model.access.get;
  return read === "public" || read === "user" ? "all" : "admin";
}

/**
 * The envelope for one write (also what a webhook delivers, so both share its id).
 *
 * An event visible to all carries no actor and no trace: those say who wrote and which request
 * did (ana's order is what took a book's stock down), and they are not the public's. Its data
 * stays the record as anyone may read it over REST — a book's new stock is on
 * `GET /api/books/:id` for everyone, so it is no secret; linking it to a buyer was.
 */
export function modelEvent(model: Model, write: WriteEvent): Event {
  const record = write.record;
  // A row hidden from non-admins (a draft) has events for admins only, whoever may read the model.
  const hidden = model.visible !== null && Object.entries(model.visible).some(([field, value]) => record[field] !== value);
  const visibility = hidden ? "admin" : modelVisibility(model);
  const owner = model.ownerField ? (record[model.ownerField] as string | null) : null;
  const everyone = visibility === "all";
  return createEvent(`${model.name.toLowerCase()}.${PAST[write.operation]}`, record, {
    subject: String(record.id),
    traceparent: everyone ? null : write.traceparent,
    actorId: everyone ? null : owner ?? write.auth?.id ?? null,
    visibility,
  });
}

/**
 * Registers the emitter for every model given: each write's event is built inside the
 * transaction — `onEvent` sees it there, with the write (webhooks enqueue their deliveries with
 * it, traced by the write's request even when the event carries no trace) — and published on
 * the bus after commit (kept in the outbox with the write, on a network bus).
 */
export function emitModelEvents(pipeline: WriteHooks, models: readonly Model[], options: { bus?: EventBus | null; onEvent?: (event: Event, write: WriteEvent) => void }): void {
  const byName = new Map(models.map((m) => [m.name, m]));
  pipeline.register(
    (write) => {
      const model = byName.get(write.model);
      if (!model) return;
      const event = modelEvent(model, write);
      options.onEvent?.(event, write);
      const bus = options.bus;
      if (keepsEvents(bus)) bus.keep(event);
      else if (bus) write.services.db.afterCommit(() => void bus.publishEvent(event).catch((error) => write.services.logger.log("error", "could not publish an event", { type: event.type, error: errorMessage(error) })));
    },
    { model: "*", position: "after" },
  );
}
