// Tests against an outside engine run when its URL variable is set (.ci/run sets them all),
// and say plainly that they were skipped otherwise. Under CI=true a missing engine is a
// failure, not a skip: CI must never go green with every adapter test skipped.
import { describe, test } from "bun:test";

export function engineUrl(variable: string, what: string, example: string): string | null {
  const url = process.env[variable];
  if (url) return url;
  if (process.env.CI === "true") {
    describe(`${what} (${variable} not set)`, () =>
      test(`needs ${variable}: CI=true requires every engine`, () => {
        throw new Error(`${what}: ${variable} is not set, and CI=true requires this engine (e.g. ${example}); .ci/run starts it`);
      }));
    return null;
  }
  console.warn(`SKIPPED: ${what} (set ${variable}, e.g. ${example})`);
  describe.skip(`${what} (${variable} not set)`, () => test(`needs ${variable}`, () => {}));
  return null;
}
