// The documentation is code a user copies: it must import what a user can import and compile
// against today's API. Two checks (issue 17): no file under docs/ or examples/ imports a path
// inside src/ (only the package entry points "backroom", "backroom/testing", "backroom/postgres",
// … and third-party packages), and every ```ts / ```typescript block of docs/*.md is written to
// a file inside the repository (so "backroom" resolves to src/index.ts by package
// self-reference, as it does for an installed package) and type-checked with the repo's tsc and
// the root tsconfig's compiler options. A block that is deliberately a fragment is fenced
// ```ts fragment and skipped; the doc says why next to it.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");
const DOCS = join(ROOT, "docs");
const EXAMPLES = join(ROOT, "examples");
// Inside the repository, so the package resolves itself; git-ignored, and removed afterwards.
const BLOCKS = join(ROOT, "test", ".docs-blocks");

/**
 * Files still importing src/ while another change reworks them, each with its reason. An entry
 * fails the test once the file no longer imports src/, so it cannot outlive its reason.
 */
const PENDING: Record<string, string> = {};

function files(dir: string, extension: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules") return [];
    if (statSync(path).isDirectory()) return files(path, extension);
    return name.endsWith(extension) ? [path] : [];
  });
}

interface Block {
  /** The info string's words after the fence: ["ts"], ["ts", "fragment"], ["json"]… */
  info: string[];
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^\\s*${fence![0]}{${fence!.length},}\\s*$`).test(lines[j]!)) body.push(lines[j++]!.slice(indent!.length));
    blocks.push({ info: info!.trim().split(/\s+/).filter(Boolean), code: body.join("\n"), line: i + 1 });
    i = j;
  }
  return blocks;
}

const SPECIFIERS = [
  /\b(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/g, // import … from "x", export … from "x"
  /^\s*import\s*["']([^"']+)["']/gm, // import "x"
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, // import("x")
  /\brequire\s*\(\s*["']([^"']+)["']\s*\)/g, // require("x")
];

function specifiers(code: string): string[] {
  return SPECIFIERS.flatMap((re) => [...code.matchAll(re)].map((m) => m[1]!));
}

/**
 * Whether a specifier reaches into src/. A package path naming src/ ("backroom/src/events") does;
 * a relative or absolute path does when it resolves inside the repository's src/ — from the
 * file's folder, and for a doc also from the repository root, since a doc's `./src/jobs` means
 * this repository's. (An example app's own src/ folder is its own business.)
 */
function reachesSrc(specifier: string, fromDirs: string[]): boolean {
  if (!specifier.startsWith(".") && !specifier.startsWith("/")) return /(^|\/)src(\/|$)/.test(specifier);
  return fromDirs.some((dir) => {
    const target = resolve(dir, specifier);
    return target === SRC || target.startsWith(`${SRC}/`);
  });
}

function srcImports(path: string): string[] {
  const text = readFileSync(path, "utf8");
  if (path.endsWith(".md")) {
    return codeBlocks(text).flatMap((block) =>
      specifiers(block.code).filter((s) => reachesSrc(s, [dirname(path), ROOT])).map((s) => `${relative(ROOT, path)}:${block.line}: ${s}`));
  }
  return specifiers(text).filter((s) => reachesSrc(s, [dirname(path)])).map((s) => `${relative(ROOT, path)}: ${s}`);
}

test("no file under docs/ or examples/ imports a path inside src/ (only the package's entry points)", () => {
  const checked = [...files(DOCS, ".md"), ...files(EXAMPLES, ".ts"), ...files(EXAMPLES, ".tsx"), ...files(EXAMPLES, ".md")];
  expect(checked.length).toBeGreaterThan(0);
  const offending = checked.filter((path) => !(relative(ROOT, path) in PENDING)).flatMap(srcImports);
  expect(offending).toEqual([]);
  // A pending file that no longer imports src/ has lost its reason: drop its entry.
  const stale = Object.keys(PENDING).filter((path) => !existsSync(join(ROOT, path)) || srcImports(join(ROOT, path)).length === 0);
  expect(stale).toEqual([]);
});

test("the src/ import check finds each way of writing one", () => {
  const md = "```ts\nimport { Worker } from \"./src/jobs\";\nconst x = await import('backroom/src/testing');\n```\n```ts\nimport { t } from \"backroom\";\n```\n";
  const found = codeBlocks(md).flatMap((b) => specifiers(b.code).filter((s) => reachesSrc(s, [DOCS, ROOT])));
  expect(found).toEqual(["./src/jobs", "backroom/src/testing"]);
  expect(reachesSrc("../src/store/app.ts", [EXAMPLES])).toBe(true);
  expect(reachesSrc("./src/app.ts", [join(EXAMPLES, "kiosk")])).toBe(false);
  expect(reachesSrc("backroom/testing", [EXAMPLES])).toBe(false);
  expect(specifiers("const m = require(\"../src/log.ts\");")).toEqual(["../src/log.ts"]);
});

const TYPESCRIPT = new Set(["ts", "typescript"]);

interface DocBlock {
  /** Its file under BLOCKS: <doc>/<name>, the name from `file=NAME` or block-<n>.ts. */
  file: string;
  doc: string;
  line: number;
  code: string;
}

/**
 * The blocks to check, each doc's in a folder of its own. A block fenced ```ts file=app.ts is
 * written under that name, so another block of the same doc can import it ("./app.ts"), as a
 * walkthrough that builds app.ts, main.ts and app.test.ts does.
 */
function docBlocks(): DocBlock[] {
  return files(DOCS, ".md").flatMap((path) => {
    const doc = relative(ROOT, path);
    const folder = doc.replace(/^docs\//, "").replace(/\.md$/, "").replace(/[^a-z0-9]+/gi, "-");
    return codeBlocks(readFileSync(path, "utf8"))
      .filter((b) => TYPESCRIPT.has(b.info[0] ?? "") && !b.info.includes("fragment"))
      .map((b, n) => {
        const named = b.info.find((word) => word.startsWith("file="))?.slice("file=".length);
        return { file: `${folder}/${named ?? `block-${n + 1}.ts`}`, doc, line: b.line, code: b.code };
      });
  });
}

afterAll(() => rmSync(BLOCKS, { recursive: true, force: true }));

test("every TypeScript block in docs/*.md type-checks against the package's entry points", () => {
  const blocks = docBlocks();
  expect(blocks.length).toBeGreaterThan(0);
  rmSync(BLOCKS, { recursive: true, force: true });
  mkdirSync(BLOCKS, { recursive: true });
  for (const block of blocks) {
    // `export {}` makes each block a module of its own, so two blocks may both declare `app`.
    mkdirSync(dirname(join(BLOCKS, block.file)), { recursive: true });
    writeFileSync(join(BLOCKS, block.file), `// ${block.doc}:${block.line}\n${block.code}\nexport {};\n`);
  }
  // The root tsconfig's compiler options (strict, noUnusedLocals, …), on just these files.
  writeFileSync(join(BLOCKS, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", include: ["**/*.ts"] }, null, 2));
  const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "--pretty", "false", "-p", join(BLOCKS, "tsconfig.json")], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const output = `${tsc.stdout.toString()}${tsc.stderr.toString()}`;
  // Errors inside src/ are `npm run typecheck`'s to report; here only the blocks' own count.
  // Each is shown at its place in the doc: "docs/jobs.md:7 (block line 3): error TS…".
  const where = new Map(blocks.map((b) => [b.file, b]));
  const errors = output
    .split("\n")
    .map((line) => /^(?:.*[\\/])?test[\\/]\.docs-blocks[\\/]([^(]+)\((\d+),\d+\): (error .*)$/.exec(line.replaceAll("\\", "/")))
    .filter((m) => m !== null)
    .map(([, file, line, message]) => {
      const block = where.get(file!);
      return block ? `${block.doc}:${block.line + Number(line) - 1} (${file} line ${Number(line) - 1}): ${message}` : `${file}(${line}): ${message}`;
    });
  expect(errors).toEqual([]);
  // A run that failed without naming a block (tsc missing, a broken tsconfig) must not pass.
  if (tsc.exitCode !== 0) expect(output).toMatch(/error TS/);
}, 120_000);
