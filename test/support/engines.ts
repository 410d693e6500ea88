// Tests against an outside engine run when its URL variable is set (.ci/run sets them all),
// and say plainly that they were skipped otherwise. Under CI=true a missing engine is a
// failure, not a skip: CI must never go green with every adapter test skipped.
import { describe, test } from "bun:test";

export function engineUrl(variable: string, what: string, example: string): string | null {
  const url = process.env[variable];
  if (url) return url;
  unavailable(`${what} (${variable} not set)`, `needs ${variable}`, `${what}: ${variable} is not set, and CI=true requires this engine (e.g. ${example}); .ci/run starts it`, `${what} (set ${variable}, e.g. ${example})`);
  return null;
}

/** The same rule for a program a test runs (nats-server, kcat): true when it is there. */
export function toolPresent(path: string | null, what: string, name: string): boolean {
  if (path) return true;
  unavailable(name, `needs ${what}`, `${what} is not installed, and CI=true requires it; .ci/run installs it`, `${name} (needs ${what})`);
  return false;
}

// Under CI=true a failing test; elsewhere a visible skip with a SKIPPED line.
function unavailable(name: string, need: string, ciError: string, skipped: string): void {
  if (process.env.CI === "true") {
    describe(name, () => test(`${need}: CI=true requires it`, () => {
      throw new Error(ciError);
    }));
    return;
  }
  console.warn(`SKIPPED: ${skipped}`);
  describe.skip(name, () => test(need, () => {}));
}
