// The dashboard's bundled script and stylesheet are committed (an app compiles us from
// node_modules, where no build of ours runs): they must be what the sources build to now.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dashboardAssets, GENERATED } from "../../scripts/build-dashboard.ts";

test("src/api/dashboard/assets.generated.ts is built from the current sources (else run bun scripts/build-dashboard.ts)", async () => {
  expect(readFileSync(GENERATED, "utf8")).toBe(await dashboardAssets());
});
