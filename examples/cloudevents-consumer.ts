// Reading a Backroom event (a webhook body, or a realtime message's `event`) with the
// CloudEvents SDK.
import { CloudEvent, HTTP } from "cloudevents";

export function readEvent(body: string): CloudEvent<unknown> {
  const event = HTTP.toEvent({ headers: { "content-type": "application/cloudevents+json" }, body }) as CloudEvent<unknown>;
  event.validate(); // throws if it is not a valid CloudEvents 1.0 event
  return event;
}
