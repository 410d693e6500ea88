// Tests against an outside engine run when its URL variable is set (.ci/run sets them all),
// and say plainly that they were skipped otherwise.
import { describe, test } from "bun:test";

export function engineUrl(variable: string, what: string, example: string): string | null {
  const url = process.env[variable];
  if (url) return url;
  console.warn(`SKIPPED: ${what} (set ${variable}, e.g. ${example})`);
  describe.skip(`${what} (${variable} not set)`, () => test(`needs ${variable}`, () => {}));
  return null;
}
