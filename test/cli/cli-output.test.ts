// The command line as a script or an operator uses it: exit codes that tell a usage mistake (2)
// from a failure (1), unknown statuses refused, jobs printed as the REST API prints them,
// --json on the listing commands, progress without \r in a log file, and `--` ending flags.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { jobsCommand } from "../../src/cli/jobs.ts";
import { bookstore } from "../../src/store/app.ts";
import { storeFixture, type StoreFixture } from "../store/support.ts";

let store: StoreFixture;
beforeEach(() => (store = storeFixture()));
afterEach(() => store.close());

const run = (...args: string[]) => {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, BACKROOM_DB: store.tmp.file("store.db") } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
};

/** A waiting job and a dead one (with an error and a completion time), committed to the file. */
function seedJobs() {
  const waiting = store.queue.enqueue({ type: "send_receipt", actorId: store.users.ana.id, payload: { order_id: "o1" } });
  const dead = store.queue.enqueue({ type: "report" });
  store.db.sqlite.run("UPDATE jobs SET status = 'dead', attempts = 3, error = 'smtp down', started_at = ?, completed_at = ? WHERE id = ?", [Date.now() - 2_000, Date.now() - 1_000, dead]);
  return { waiting, dead };
}

test("runtime failures exit 1 with one line and no usage hint; usage mistakes still exit 2", () => {
  const { waiting } = seedJobs();
  store.db.close(); // retry and cancel need the file to themselves (closing it twice in afterEach is harmless)
  const failures: [string[], string][] = [
    [["jobs", "show", "NOPE"], "backroom: no job NOPE\n"],
    [["jobs", "retry", waiting], `backroom: job ${waiting} is not dead; only dead jobs can be retried\n`],
    [["jobs", "cancel", "NOPE"], "backroom: no job NOPE\n"],
    [["user", "token", "--email", "nobody@example.com"], "backroom: no user with e-mail nobody@example.com\n"],
  ];
  for (const [args, err] of failures) expect({ args, ...run(...args) }).toMatchObject({ args, code: 1, err });
  writeFileSync(store.tmp.file("taken.db"), "");
  expect(run("backup", store.tmp.file("taken.db"))).toMatchObject({ code: 1, err: expect.not.stringContaining("--help") });
  for (const args of [["jobs", "show"], ["jobs", "frobnicate"], ["user", "token"], ["jobs", "list", "--limit", "many"]]) {
    const r = run(...args);
    expect({ args, code: r.code }).toEqual({ args, code: 2 });
    expect(r.err).toEndWith("(see backroom --help)\n");
  }
}, 30_000);

test("an unknown status is refused: jobs list --status bogus exits 2; REST answers 400 INVALID_QUERY, shorthand and filter alike", async () => {
  seedJobs();
  const cli = run("jobs", "list", "--status", "bogus");
  expect(cli.code).toBe(2);
  expect(cli.err).toContain('--status must be one of enqueued, running, succeeded, failed, dead, cancelled, not "bogus"');
  expect(run("jobs", "list", "--status", "dead").out).toContain("smtp down");
  const token = store.users.admin.token;
  for (const query of ["status=bogus", "filter=status:eq:bogus", "filter=status:in:dead,bogus", "filter=status:ne:Dead"]) {
    const r = await store.call("GET", `/api/job_statuses?${query}`, { token });
    expect({ query, status: r.status, code: r.body.error?.code }).toEqual({ query, status: 400, code: "INVALID_QUERY" });
    expect(r.body.error.details).toEqual([{ field: "status", message: expect.stringContaining("must be one of enqueued, running") }]);
  }
  const good = await store.call("GET", "/api/job_statuses?filter=status:in:dead,enqueued", { token });
  expect(good.status).toBe(200);
  expect(good.body.meta.total).toBe(2);
}, 30_000);

test("jobs show prints exactly what the API shows an admin: snake_case, ISO times", async () => {
  const { dead } = seedJobs();
  const api = await store.call("GET", `/api/job_statuses/${dead}`, { token: store.users.admin.token });
  expect(api.status).toBe(200);
  const printed: string[] = [];
  await jobsCommand(bookstore, "show", [dead], { db: store.tmp.file("store.db") }, (l) => printed.push(l));
  const shown = JSON.parse(printed.join("\n"));
  expect(shown).toEqual(api.body.data);
  expect(shown).toMatchObject({ id: dead, max_retry: 3, error: "smtp down", completed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
  expect(Object.keys(shown).filter((k) => /[A-Z]/.test(k))).toEqual([]);
  expect(JSON.parse(run("jobs", "show", dead, "--json").out)).toEqual(api.body.data);
}, 30_000);

test("--json on jobs list and show, schedules list and user list prints parseable JSON with the API's fields", async () => {
  const { waiting, dead } = seedJobs();
  const jobs = JSON.parse(run("jobs", "list", "--json").out);
  expect(jobs.map((j: { id: string }) => j.id).sort()).toEqual([waiting, dead].sort());
  const listed = (await store.call("GET", "/api/job_statuses?sort=id", { token: store.users.admin.token })).body.data;
  expect([...jobs].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id))).toEqual(listed);
  store.db.sqlite.run("INSERT INTO schedules (name, schedule, type, payload, timezone, catch_up, paused, declared, next_fire_at, last_fired_at, created_at, updated_at) VALUES ('nightly', '0 3 * * *', 'report', 'null', 'UTC', 'skip', 0, 0, ?, NULL, ?, ?)", [Date.UTC(2030, 0, 1, 3), Date.now(), Date.now()]);
  const schedules = JSON.parse(run("schedules", "list", "--json").out);
  expect(schedules).toEqual([expect.objectContaining({ name: "nightly", type: "report", next_fire_at: "2030-01-01T03:00:00.000Z", last_fired_at: null, catch_up: "skip" })]);
  const apiUsers = (await store.call("GET", "/api/users?sort=created_at", { token: store.users.admin.token })).body.data;
  store.db.close(); // user commands need the file to themselves
  const users = JSON.parse(run("user", "list", "--json").out);
  expect(users).toEqual(apiUsers);
  expect(users.map((u: { email: string }) => u.email)).toEqual(["root@example.com", "ana@example.com", "ben@example.com"]);
}, 30_000);

test("purge progress rewrites one line with \\r on a terminal, and writes whole lines without \\r otherwise", async () => {
  seedJobs();
  store.db.sqlite.run("UPDATE jobs SET status = 'succeeded', completed_at = ?", [Date.now() - 30 * 86_400_000]);
  store.db.close();
  const purge = async (isTTY: boolean) => {
    let written = "";
    await jobsCommand(bookstore, "purge", [], { db: store.tmp.file("store.db"), "older-than-days": 7 }, () => {}, { isTTY, write: (t: string) => (written += t) });
    return written;
  };
  const onTerminal = await purge(true);
  expect(onTerminal).toStartWith("\rpurging finished jobs older than ");
  expect(onTerminal).toEndWith(": 2 deleted\n");
  const inLog = await purge(false);
  expect(inLog).not.toContain("\r");
  expect(inLog).toMatch(/^purging finished jobs older than \S+: 0 deleted\n$/);
  const binary = run("jobs", "purge");
  expect(binary.code).toBe(0);
  expect(binary.err).not.toContain("\r"); // a pipe is not a terminal
  expect(binary.err).toEndWith(": 0 deleted\n");
}, 30_000);

test("-- ends the flags: what follows is positional, even --help", () => {
  seedJobs();
  expect(run("jobs", "show", "--", "--help")).toMatchObject({ code: 1, err: "backroom: no job --help\n" });
  expect(run("jobs", "show", "--", "--json")).toMatchObject({ code: 1, err: "backroom: no job --json\n" });
  const help = run("jobs", "show", "--help");
  expect(help.code).toBe(0);
  expect(help.out).toContain("Usage: backroom jobs");
}, 30_000);
