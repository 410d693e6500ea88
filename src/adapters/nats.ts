// "backroom/nats": the NATS event bus (JetStream for durable subscriptions); loads the `nats` client.
export { NatsBus, type NatsBusOptions } from "../events/nats.ts";
