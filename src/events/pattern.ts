// Subscription patterns over dot-separated event types:
//   order.created   exactly that type
//   order.*         `*` is exactly one segment: order.created, order.deleted (not order.a.b)
//   job.>           `>` is one or more trailing segments, last only: job.send_receipt.completed
// The same wildcards as NATS; AMQP topic exchanges call `>` `#`.

import { CodedError } from "../errors.ts";

export class InvalidPatternError extends CodedError {
  override name = "InvalidPatternError";
  constructor(message: string) {
    super(422, "VALIDATION_ERROR", message, [{ field: "pattern", message }]);
  }
}

export function compilePattern(pattern: string): (type: string) => boolean {
  const parts = typeof pattern === "string" ? pattern.split(".") : [];
  if (parts.length === 0 || parts.some((p) => p === "")) throw new InvalidPatternError(`invalid event pattern "${pattern}": empty segment`);
  parts.forEach((part, i) => {
    if (part === ">" && i !== parts.length - 1) throw new InvalidPatternError(`invalid event pattern "${pattern}": ">" must be the last segment`);
    if (part !== "*" && part !== ">" && /[*>]/.test(part)) throw new InvalidPatternError(`invalid event pattern "${pattern}": wildcards stand alone in a segment`);
  });
  if (!parts.includes("*") && !parts.includes(">")) return (type) => type === pattern;
  return (type) => {
    const segments = type.split(".");
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === ">") return segments.length > i;
      if (i >= segments.length) return false;
      if (parts[i] !== "*" && parts[i] !== segments[i]) return false;
    }
    return segments.length === parts.length;
  };
}
