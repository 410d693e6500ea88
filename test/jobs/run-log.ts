// The run log the crash fixtures write ("<id> <attempt>" per handler start), read back as the
// attempts each job ran with, in order.
import { existsSync, readFileSync } from "node:fs";

export function runsIn(runLog: string): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  if (!existsSync(runLog)) return runs;
  for (const line of readFileSync(runLog, "utf8").split("\n")) {
    const [id, attempt] = line.split(" ");
    if (id && attempt) runs.set(id, [...(runs.get(id) ?? []), Number(attempt)]);
  }
  return runs;
}
