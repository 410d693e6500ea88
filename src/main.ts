#!/usr/bin/env bun
// Entry of the `backroom` binary: the bookstore, the reference app, on the runtime's command
// line. Its definition loads only when a command needs it, so --version and --help are instant.
import packageJson from "../package.json" with { type: "json" };
import { runCli } from "./cli/run.ts";

await runCli({
  name: "backroom",
  version: packageJson.version,
  description: "an embedded job-and-event runtime: one executable, one SQLite file",
  load: async () => (await import("./store/app.ts")).bookstore,
});
