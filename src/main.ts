#!/usr/bin/env bun
// Entry of the binary. Wiring only: parse arguments, open the database, start the parts,
// stop on signals. Until the REST API lands, `start` runs a small real demo of the queue.
import { runDemo, type DemoOptions } from "./store/demo.ts";

const HELP = `backroom — embedded job-and-event runtime

Usage: backroom [demo] [--db FILE | --memory] [--sync full|normal] [--outbox DIR]

  demo          (default) place a few orders on the database file and process their jobs
  --db FILE     database file (default ./backroom.db)
  --memory      keep jobs in memory only (the in-memory queue; nothing survives the process)
  --sync MODE   full (default: survives a power cut) or normal (faster; survives a crash)
  --outbox DIR  where receipts are written (default ./outbox)
`;

function parseArgs(argv: string[]): DemoOptions {
  const options: DemoOptions = { db: "./backroom.db", memory: false, sync: "FULL", outbox: "./outbox" };
  const args = [...argv];
  while (args.length > 0) {
    const arg = args.shift()!;
    const value = () => {
      const v = args.shift();
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "demo") continue;
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write(HELP);
      process.exit(0);
    } else if (arg === "--db") options.db = value();
    else if (arg === "--outbox") options.outbox = value();
    else if (arg === "--memory") options.memory = true;
    else if (arg === "--sync") {
      const v = value().toUpperCase();
      if (v !== "FULL" && v !== "NORMAL") throw new Error(`--sync must be full or normal, not "${v.toLowerCase()}"`);
      options.sync = v;
    } else throw new Error(`unknown argument "${arg}" (see --help)`);
  }
  return options;
}

try {
  await runDemo(parseArgs(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`backroom: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
