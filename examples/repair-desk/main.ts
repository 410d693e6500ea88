#!/usr/bin/env bun
// The repair desk's binary: Backroom's command line (serve, migrate, user, jobs, schedules,
// backup, doctor) for this app. Compile it with:
//   bun node_modules/backroom/scripts/compile.ts --entry main.ts --sandbox export-tickets.ts --outfile dist/repair-desk
import { runCli } from "backroom";
import { repairDesk } from "./app.ts";

await runCli(repairDesk);
