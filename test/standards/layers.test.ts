// The layers DESIGN.md §2 draws, held by a test: every import under src/ (static, type-only and
// dynamic `import("…")`) is read from the source text and checked against the allowed directions,
// `cli → runtime → api → models → jobs, events, cron → db` (ops may read jobs and db; store is an
// app on top, on src/index.ts alone; adapters are the optional engines' package entries),
// and the whole graph is searched for an import cycle. It reads files only: nothing is imported.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const SRC = join(ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

// Comment lines are dropped first, so a doc comment that shows `import("…")` is not an edge.
const STATIC = /^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gm;
const SIDE_EFFECT = /^import\s*["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function specifiers(text: string): string[] {
  const code = text
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .map((line) => line.replace(/\s\/\/.*$/, ""))
    .join("\n");
  return [STATIC, SIDE_EFFECT, DYNAMIC].flatMap((re) => [...code.matchAll(re)].map((m) => m[1]!));
}

function resolveImport(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier);
  const found = [base, `${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p) && statSync(p).isFile());
  return found?.startsWith(`${SRC}/`) ? found : undefined;
}

/** src-relative path → the src-relative paths it imports. */
const graph = new Map<string, string[]>();
for (const file of sourceFiles(SRC)) {
  const targets = specifiers(readFileSync(file, "utf8"))
    .map((s) => resolveImport(file, s))
    .filter((t): t is string => t !== undefined)
    .map((t) => relative(SRC, t));
  graph.set(relative(SRC, file), [...new Set(targets)]);
}

/** "api/app.ts" → "api"; "clock.ts" → "clock.ts" (a top-level file is its own place). */
const layerOf = (path: string) => (path.includes("/") ? path.slice(0, path.indexOf("/")) : path);

/** Files any layer may import: they import nothing of ours but each other. */
const LEAVES = ["clock.ts", "log.ts", "errors.ts", "ulid.ts"];

function violations(from: (layer: string) => boolean, forbidden: (target: string) => boolean): string[] {
  const found: string[] = [];
  for (const [file, targets] of graph) {
    if (!from(layerOf(file))) continue;
    for (const target of targets) if (forbidden(target)) found.push(`${file} imports ${target}`);
  }
  return found.sort();
}

const inLayers = (...layers: string[]) => (layer: string) => layers.includes(layer);
const targetIn = (...layers: string[]) => (target: string) => layers.includes(layerOf(target));

test("the leaf files import nothing of ours but each other", () => {
  expect(violations(inLayers(...LEAVES), (t) => !LEAVES.includes(t))).toEqual([]);
});

test("db imports nothing of ours but itself and the leaf files", () => {
  expect(violations(inLayers("db"), (t) => layerOf(t) !== "db" && !LEAVES.includes(t))).toEqual([]);
});

test("jobs, events and cron import none of models, api, cli, store, ops", () => {
  expect(violations(inLayers("jobs", "events", "cron"), targetIn("models", "api", "cli", "store", "ops"))).toEqual([]);
});

test("ops reads jobs and db only: it imports none of models, api, cli, store", () => {
  expect(violations(inLayers("ops"), targetIn("models", "api", "cli", "store"))).toEqual([]);
});

test("models imports none of api, cli, store", () => {
  expect([...graph.keys()].filter((f) => layerOf(f) === "models").length).toBeGreaterThan(5);
  expect(violations(inLayers("models"), targetIn("api", "cli", "store"))).toEqual([]);
});

test("api imports none of cli, store", () => {
  expect(violations(inLayers("api"), targetIn("cli", "store"))).toEqual([]);
});

test("runtime imports none of cli, store; cli none of store; adapters only jobs and events", () => {
  expect(violations(inLayers("runtime"), targetIn("cli", "store"))).toEqual([]);
  expect(violations(inLayers("cli"), targetIn("store"))).toEqual([]);
  expect(violations(inLayers("adapters"), (t) => !["jobs", "events"].includes(layerOf(t)))).toEqual([]);
});

test("nothing imports store but src/main.ts and store itself", () => {
  expect(violations((layer) => layer !== "store" && layer !== "main.ts", targetIn("store"))).toEqual([]);
});

test("the bookstore is built on the public entry alone (src/index.ts), as an app of your own would be", () => {
  expect([...graph.keys()].filter((f) => layerOf(f) === "store").length).toBeGreaterThan(3);
  expect(violations(inLayers("store"), (t) => layerOf(t) !== "store" && t !== "index.ts")).toEqual([]);
});

/** Every import cycle's strongly connected component (Tarjan), each printed as one cycle through it. */
function cycles(): string[] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    indexOf.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexOf.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indexOf.get(next)!));
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node);
  return components.map((component) => {
    // A shortest path back to the start, inside the component: the cycle a reader can follow.
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    const previous = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const node = queue.shift()!;
      for (const next of graph.get(node) ?? []) {
        if (!members.has(next)) continue;
        if (next === start) {
          end = node;
          break;
        }
        if (!previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    const path = [start];
    for (let node = end!; node !== start; node = previous.get(node)!) path.splice(1, 0, node);
    return [...path, start].join(" → ") + (component.length > path.length ? `  (component of ${component.length} files)` : "");
  });
}

test("the import graph has no cycle", () => {
  expect(graph.size).toBeGreaterThan(50);
  expect(cycles()).toEqual([]);
});
