// Builds a single executable: `npm run compile` → dist/backroom (the bookstore). An app built
// on Backroom compiles its own entry the same way, from its project folder:
//   bun node_modules/backroom/scripts/compile.ts --entry main.ts --outfile dist/repair-desk
//   npm run compile -- --target bun-linux-arm64     cross-compile (the runtime for that target
//                                                  must be obtainable; offline it fails clearly)
//   … --sandbox jobs/render.ts                     compile a sandboxed handler's module in (once per
//                                                  module; docs/jobs.md "Sandboxed handlers")
import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, extname, relative, resolve, sep } from "node:path";

const args = process.argv.slice(2);
const value = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const target = value("--target");
const entry = value("--entry") ?? "src/main.ts";
const name = value("--entry") ? basename(entry, extname(entry)) : "backroom";
const outfile = value("--outfile") ?? (target ? `dist/${name}-${target.replace(/^bun-/, "")}` : `dist/${name}`);

// Bun runs a worker thread only from an entry point of the build: the sandbox thread and every
// sandboxed module are entry points beside the app's. They land in the binary at their path
// relative to --root; the runtime learns where from BACKROOM_SANDBOXES (src/jobs/sandbox-modules.ts),
// and finds a declared module by its file name, so two sandboxed modules need two names.
const thread = resolve(import.meta.dir, "../src/jobs/sandbox-thread.ts");
const sandboxes = args.flatMap((arg, i) => (arg === "--sandbox" ? [resolve(args[i + 1] ?? "")] : []));
const modules: Record<string, string> = {};
for (const file of sandboxes) {
  if (!existsSync(file)) fail(`--sandbox ${relative(".", file)}: no such file`);
  const name = basename(file, extname(file));
  if (modules[name]) fail(`--sandbox: two modules are named ${name} (${relative(".", file)}); sandboxed modules need distinct file names`);
  modules[name] = file;
}
const root = commonFolder([resolve(entry), thread, ...sandboxes]);
const inBinary = (file: string) => `/$bunfs/root/${relative(root, file).split(sep).join("/").replace(/\.[cm]?[jt]sx?$/, "")}.js`;
const manifest = { thread: inBinary(thread), modules: Object.fromEntries(Object.entries(modules).map(([name, file]) => [name, inBinary(file)])) };

mkdirSync(dirname(outfile), { recursive: true });
// --bytecode: the bundle is shipped precompiled, so a start parses nothing; --splitting: what
// src/cli/run.ts imports only when a command runs (the app, Elysia, the adapters) is a chunk of
// its own, loaded then. --version: 0.31 s → 0.06 s here, as fast as a compiled hello world.
const command = [process.execPath, "build", "--compile", "--minify", "--sourcemap", "--bytecode", "--format", "esm", "--splitting", entry, thread, ...sandboxes, "--root", root, "--define", `BACKROOM_SANDBOXES=${JSON.stringify(manifest)}`, "--outfile", outfile];
if (target) command.push("--target", target);
const build = Bun.spawnSync(command, { stdout: "inherit", stderr: "inherit" });
if (build.exitCode !== 0) {
  console.error(`compile failed${target ? ` for ${target} (its Bun runtime may not be obtainable offline)` : ""}`);
  process.exit(1);
}
console.log(`built ${outfile}`);

function commonFolder(files: string[]): string {
  let folder = dirname(files[0]!);
  while (!files.every((file) => file.startsWith(folder + sep))) folder = dirname(folder);
  return folder;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
