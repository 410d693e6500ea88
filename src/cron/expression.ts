// Cron expressions, on croner: five or six fields (seconds first when six), nicknames
// (@hourly, @daily, @weekly, @monthly, @yearly), and an IANA timezone (default: the server's
// local time). Around daylight-saving changes croner fires a local time that does not exist
// (02:30 on a spring-forward night) at the first moment after the gap, and a local time that
// happens twice (autumn) once, at its first occurrence.
import { Cron } from "croner";
import { CodedError } from "../errors.ts";

export class InvalidScheduleError extends CodedError {
  override name = "InvalidScheduleError";
  constructor(
    readonly field: "schedule" | "timezone",
    message: string,
  ) {
    super(400, "INVALID_SCHEDULE", message, [{ field, message }]);
  }
}

export interface CompiledSchedule {
  /** The first fire time strictly after `after` (epoch ms), or null when there is none. */
  nextAfter(after: number): number | null;
}

export function compileSchedule(expression: string, timezone: string | null): CompiledSchedule {
  if (typeof expression !== "string" || expression.trim() === "") throw new InvalidScheduleError("schedule", "schedule must be a cron expression");
  let cron: Cron;
  try {
    cron = new Cron(expression.trim(), { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (error) {
    throw new InvalidScheduleError("schedule", `invalid cron expression "${expression}": ${(error as Error).message}`);
  }
  const nextAfter = (after: number) => cron.nextRun(new Date(after))?.getTime() ?? null;
  try {
    nextAfter(Date.now()); // an unknown timezone only shows when a date is computed
  } catch (error) {
    throw new InvalidScheduleError("timezone", `invalid timezone "${timezone}": use an IANA name such as Europe/Berlin`);
  }
  return { nextAfter };
}
