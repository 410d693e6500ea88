// Backroom as a runtime a developer builds on: a project OUTSIDE this repository installs it
// from `npm pack` output, imports only the package's entry points (the repair-desk example:
// a model, an action that writes a row and enqueues a job in one transaction, a handler, a
// schedule), compiles itself to one executable with the package's compile script, starts on an
// empty folder and passes the flow a client relies on; its command line answers as ours does.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { killChildren, spawnCommand } from "../support/child.ts";
import { tempDir } from "../support/temp.ts";
import { waitFor } from "../support/wait.ts";

const ROOT = resolve(import.meta.dir, "../..");
let tmp: ReturnType<typeof tempDir>;
let binary: string;

const run = (cmd: string[], cwd: string) => {
  const r = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

beforeAll(() => {
  tmp = tempDir();
  const pack = run(["npm", "pack", "--pack-destination", tmp.dir, "--silent"], ROOT);
  if (pack.code !== 0) throw new Error(`npm pack failed: ${pack.err}`);
  const tarball = readdirSync(tmp.dir).find((f) => f.endsWith(".tgz"))!;
  const project = tmp.file("repair-desk");
  cpSync(join(ROOT, "examples/repair-desk"), project, { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "repair-desk", private: true, type: "module", dependencies: { backroom: `file:${join(tmp.dir, tarball)}` } }));
  // The dependencies the package declares come from the npm cache `npm ci` filled (or the registry).
  const install = run(["npm", "install", "--prefer-offline", "--no-package-lock"], project);
  if (install.code !== 0) throw new Error(`npm install failed: ${install.err}`);
  binary = join(project, "dist/repair-desk");
  const build = run([process.execPath, "node_modules/backroom/scripts/compile.ts", "--entry", "main.ts", "--sandbox", "export-tickets.ts", "--outfile", binary], project);
  if (build.code !== 0) throw new Error(`compile failed: ${build.err}${build.out}`);
}, 240_000);

afterAll(async () => {
  await killChildren();
  tmp.remove();
});

test("the installed package exposes its entry points and nothing under src/ is needed by name", () => {
  const project = tmp.file("repair-desk");
  expect(existsSync(join(project, "node_modules/backroom/src/index.ts"))).toBe(true);
  const probe = run([process.execPath, "-e", 'const b = await import("backroom"); const t = await import("backroom/testing"); console.log(typeof b.defineApp, typeof b.runCli, typeof t.createTestApp)'], project);
  expect(probe.out.trim()).toBe("function function function");
});

test("its own tests, written with backroom/testing against the installed package, pass", () => {
  const tests = run([process.execPath, "test", "./app.test.ts"], tmp.file("repair-desk"));
  expect(tests.err).toContain(" 4 pass");
  expect(tests.err).toContain(" 0 fail");
  expect(tests.code).toBe(0);
}, 60_000);

test("its own compiled binary, started on an empty folder: check-in → 202 with a job id → poll → succeeded", async () => {
  const cwd = tmp.file("till");
  Bun.spawnSync(["mkdir", "-p", cwd]);
  const server = spawnCommand([binary, "serve", "--port", "0", "--dev", "--log-level", "warn"], { cwd });
  const url = /(http:\/\/\S+)/.exec(await server.waitForLine(/^Repair-desk listening on /, 30_000))![1]!;
  const auth = { authorization: "Bearer dev-ana-token", "content-type": "application/json" };
  const answer = await fetch(`${url}/api/check_ins`, { method: "POST", headers: auth, body: JSON.stringify({ customer_email: "ana@example.com", device: "Phone X", fault: "cracked screen" }) });
  expect(answer.status).toBe(202);
  const { ticket_id, job_id } = ((await answer.json()) as { data: { ticket_id: string; job_id: string } }).data;
  expect(ticket_id).toMatch(/^[0-9A-Z]{26}$/);
  const status = async () => ((await (await fetch(`${url}/api/job_statuses/${job_id}`, { headers: auth })).json()) as { data: { status: string; max_retry: number } }).data;
  await waitFor(async () => (await status()).status === "succeeded", 15_000, "the confirmation job to succeed");
  expect((await status()).max_retry).toBe(5); // the job type's own retry setting
  expect(readdirSync(join(cwd, "outbox")).some((f) => f.endsWith(".eml"))).toBe(true);
  // Its sandboxed job type runs in a thread of the binary (its module compiled in with --sandbox).
  const admin = { ...auth, authorization: "Bearer dev-admin-token" };
  const exported = ((await (await fetch(`${url}/api/exports`, { method: "POST", headers: admin })).json()) as { data: { job_id: string } }).data.job_id;
  const exportStatus = async () => ((await (await fetch(`${url}/api/job_statuses/${exported}`, { headers: admin })).json()) as { data: { status: string; output: unknown } }).data;
  await waitFor(async () => (await exportStatus()).status === "succeeded", 15_000, "the sandboxed export to succeed");
  expect((await exportStatus()).output).toMatchObject({ tickets: 1 });
  // The command line, while it serves: jobs are listed from the same file.
  const jobs = run([binary, "jobs", "list"], cwd);
  expect(jobs.code).toBe(0);
  expect(jobs.out).toContain(job_id);
  server.proc.kill("SIGTERM");
  expect(await server.proc.exited).toBe(0);
  expect(run([binary, "migrate"], cwd)).toMatchObject({ code: 0, out: expect.stringContaining("model:tickets 1") });
}, 60_000);

test("its command line answers --help and --version with its own name", () => {
  const cwd = tmp.dir;
  expect(run([binary, "--version"], cwd)).toMatchObject({ code: 0, out: "1.0.0\n" });
  const help = run([binary, "--help"], cwd);
  expect(help.out).toContain("Usage: repair-desk <command>");
  expect(run([binary, "serve", "--help"], cwd).out).toContain("--workshop-email");
  expect(run([binary, "jobs", "show", "NOPE"], cwd)).toMatchObject({ code: 1, err: expect.stringContaining("repair-desk: ") });
});
