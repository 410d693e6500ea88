// Builds a single executable: `npm run compile` → dist/backroom (the bookstore). An app built
// on Backroom compiles its own entry the same way, from its project folder:
//   bun node_modules/backroom/scripts/compile.ts --entry main.ts --outfile dist/repair-desk
//   npm run compile -- --target bun-linux-arm64     cross-compile (the runtime for that target
//                                                  must be obtainable; offline it fails clearly)
//   … --sandbox jobs/render.ts                     compile a sandboxed handler's module in (once per
//                                                  module; docs/jobs.md "Sandboxed handlers")
//   … --no-start-profile                           skip recording a start for the bytecode's layout
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";

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
// --compile-jit-policy: a start runs thousands of functions a few times each (module bodies,
// route building); the JIT compiling them as they warm costs more than it saves. The binary
// starts with tier-up thresholds ×JIT_POLICY and startServer() sets the normal policy once it
// listens (issue 20: ready 34 → 32 ms with ×4, 29 ms with ×16 and the profile below; ×1000 no better).
const JIT_POLICY = 16;
const flags = ["--compile", "--minify", "--sourcemap", "--bytecode", "--format", "esm", "--splitting", `--compile-jit-policy=${JIT_POLICY}`, entry, thread, ...sandboxes, "--root", root, "--define", `BACKROOM_SANDBOXES=${JSON.stringify(manifest)}`];
const build = (out: string, extra: string[] = [], forTarget = target) => {
  const command = [process.execPath, "build", ...flags, ...extra, "--outfile", out, ...(forTarget ? ["--target", forTarget] : [])];
  return Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
};

// Profile-guided layout of the bytecode (Bun's --bytecode-order): a first build for this machine
// records the functions a start uses (an existing database's start, the till's every one, up to
// its first /readyz answer), and the real build places those together at the front, so a start
// touches fewer pages. The profile is by function, so this machine's run serves another target's
// build too. Without a profile (--no-start-profile, or an entry whose start cannot be recorded
// here) the build is the same but for the layout.
const profile = args.includes("--no-start-profile") ? null : await recordStartProfile();
const built = build(outfile, profile ? ["--bytecode-order", profile] : []);
process.stderr.write(built.stderr);
if (built.exitCode !== 0) {
  console.error(`compile failed${target ? ` for ${target} (its Bun runtime may not be obtainable offline)` : ""}`);
  process.exit(1);
}
console.log(`built ${outfile}${profile ? " (bytecode laid out by a recorded start)" : ""}`);

/** The functions a start of the entry's `serve` uses, in order of first use (a file), or null with a note why. */
async function recordStartProfile(): Promise<string | null> {
  const dir = mkdtempSync(join(tmpdir(), "backroom-start-profile-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const skip = (why: string) => (console.log(`note: no start profile (${why}); the bytecode keeps its default layout`), null);
  const probe = join(dir, "probe");
  const first = build(probe, [], undefined);
  if (first.exitCode !== 0) return skip(`this machine's build failed: ${first.stderr.toString().trim().split("\n").at(-1)}`);
  const order = join(dir, "start.order");
  const db = join(dir, "profile.db");
  // The first start creates the database (migrations, the first admin); the recorded one finds it.
  for (const env of [{}, { BUN_BYTECODE_ORDER_OUT: order }] as Record<string, string>[]) {
    const answered = await startAndAsk(probe, ["serve", "--port", "0", "--db", db, "--log-level", "error"], dir, env);
    if (answered !== true) return skip(answered);
  }
  return existsSync(order) ? order : skip("the recorded start wrote no profile");
}

/** Starts `program`, asks its /readyz once it says where it listens, stops it with SIGTERM: true, or why not. */
async function startAndAsk(program: string, argv: string[], cwd: string, env: Record<string, string>): Promise<true | string> {
  const child = Bun.spawn([program, ...argv], { cwd, env: { ...process.env, ...env }, stdout: "pipe", stderr: "ignore" });
  const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    let seen = "";
    for await (const chunk of child.stdout) {
      seen += new TextDecoder().decode(chunk);
      const url = /listening on (http:\/\/\S+)/.exec(seen)?.[1];
      if (!url) continue;
      const ready = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
      child.kill("SIGTERM");
      await child.exited;
      return ready ? true : "its /readyz did not answer 200";
    }
    return `its serve exited with ${await child.exited} before listening`;
  } finally {
    clearTimeout(deadline);
  }
}

function commonFolder(files: string[]): string {
  let folder = dirname(files[0]!);
  while (!files.every((file) => file.startsWith(folder + sep))) folder = dirname(folder);
  return folder;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}
