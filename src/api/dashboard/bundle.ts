// Build-time helpers for the dashboard page, imported `with { type: "macro" }`: they run while
// Bun transpiles admin-page.ts (at `bun` start-up from source, in `bun test`, and once in
// `bun scripts/compile.ts`), and the page gets their result as a string literal, so the binary
// carries the bundled script and never runs a bundler. Bun.build cannot run inside a macro
// (the bundler would wait for itself), hence the `bun build` child process.
import { readFileSync } from "node:fs";

/** The browser script: client/main.ts and what it imports, bundled and minified. */
export function clientScript(): string {
  const entry = new URL("./client/main.ts", import.meta.url).pathname;
  const build = Bun.spawnSync([process.execPath, "build", entry, "--target=browser", "--format=esm", "--minify"], {
    env: { ...process.env, BUN_BE_BUN: "1" },
  });
  if (build.exitCode !== 0) throw new Error(`bundling the dashboard script failed:\n${build.stderr.toString()}`);
  const script = build.stdout.toString();
  // Inlined in <script>: this text would end the element early.
  if (/<\/script/i.test(script)) throw new Error("the dashboard script contains </script");
  return script;
}

/** A file next to this one, as text (the page's stylesheet). */
export function fileText(name: string): string {
  const text = readFileSync(new URL(name, import.meta.url), "utf8");
  if (/<\/style/i.test(text)) throw new Error(`${name} contains </style`);
  return text;
}
