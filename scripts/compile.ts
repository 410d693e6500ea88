// Builds a single executable: `npm run compile` → dist/backroom (the bookstore). An app built
// on Backroom compiles its own entry the same way, from its project folder:
//   bun node_modules/backroom/scripts/compile.ts --entry main.ts --outfile dist/repair-desk
//   npm run compile -- --target bun-linux-arm64     cross-compile (the runtime for that target
//                                                  must be obtainable; offline it fails clearly)
import { mkdirSync } from "node:fs";
import { basename, dirname, extname } from "node:path";

const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const target = value("--target");
const entry = value("--entry") ?? "src/main.ts";
const name = value("--entry") ? basename(entry, extname(entry)) : "backroom";
const outfile = value("--outfile") ?? (target ? `dist/${name}-${target.replace(/^bun-/, "")}` : `dist/${name}`);

mkdirSync(dirname(outfile), { recursive: true });
// --bytecode: the bundle is shipped precompiled, so a start parses nothing; --splitting: what
// src/cli/run.ts imports only when a command runs (the app, Elysia, the adapters) is a chunk of
// its own, loaded then. --version: 0.31 s → 0.06 s here, as fast as a compiled hello world.
const command = [process.execPath, "build", "--compile", "--minify", "--sourcemap", "--bytecode", "--format", "esm", "--splitting", entry, "--outfile", outfile];
if (target) command.push("--target", target);
const build = Bun.spawnSync(command, { stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0) {
  console.error(`compile failed${target ? ` for ${target} (its Bun runtime may not be obtainable offline)` : ""}`);
  process.exit(1);
}
console.log(`built ${outfile}`);
