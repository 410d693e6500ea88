// Where sandbox threads load code from. Run from source (bun main.ts, bun test, the installed
// package), a module is its own file URL and the thread entry is sandbox-thread.ts beside this
// file. In a binary compiled by scripts/compile.ts, both are entry points compiled into it (Bun
// loads a worker's code only from an entry point of the build, docs: "Worker" in executables):
// the compile script defines BACKROOM_SANDBOXES with where it put them, and a declared module is
// found there by its file name (a URL taken from import.meta.url no longer names the source
// folder in a binary).
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import fs from "node:fs";
import nodePath from "node:path";

/** Set by scripts/compile.ts (bun build --define); absent when run from source. */
declare const BACKROOM_SANDBOXES: { thread: string; modules: Record<string, string> } | undefined;

interface Compiled {
  thread: string;
  locate(type: string, href: string): string;
}

let compiled: Compiled | null | undefined;

export function compiledSandboxes(): Compiled | null {
  if (compiled !== undefined) return compiled;
  const manifest = typeof BACKROOM_SANDBOXES === "undefined" ? undefined : BACKROOM_SANDBOXES;
  compiled = manifest
    ? {
        thread: manifest.thread,
        locate(type, href) {
          const path = decodeURIComponent(new URL(href).pathname);
          const name = nodePath.basename(path, nodePath.extname(path));
          const found = manifest.modules[name];
          if (!found) {
            if (!path.startsWith("/$bunfs/") && fs.existsSync(path)) return href; // a file on disk, outside the binary
            throw new Error(`job type "${type}": its sandboxed module ${name}${nodePath.extname(path)} is not compiled into this binary; build it with scripts/compile.ts --sandbox <path to ${name}${nodePath.extname(path)}>`);
          }
          return found;
        },
      }
    : null;
  return compiled;
}

/** The thread entry to start a sandbox thread from. */
export function threadEntry(): string | URL {
  return compiledSandboxes()?.thread ?? new URL("./sandbox-thread.ts", import.meta.url);
}

/** A declared module as a URL string: a URL, a file: URL or an absolute path; a relative path is refused (relative to what?). */
export function moduleHref(type: string, module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith("file:")) return module;
  if (module.startsWith("/")) return Bun.pathToFileURL(module).href;
  throw new Error(`job type "${type}": sandbox module "${module}" must be a URL or an absolute path, e.g. new URL("./render.ts", import.meta.url)`);
}
