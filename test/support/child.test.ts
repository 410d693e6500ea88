// The child-process registry itself: no child outlives the test, or the process, that started it.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/index.ts";
import { killChildren, liveChildren, spawnBun } from "./child.ts";
import { tempDir } from "./temp.ts";
import { waitFor } from "./wait.ts";

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await killChildren();
  tmp.remove();
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("killChildren kills every registered child and waits for each to exit", async () => {
  const a = spawnBun("test/db/fixtures/hold-open.ts", [tmp.file("a.db")]);
  const b = spawnBun("test/db/fixtures/hold-open.ts", [tmp.file("b.db")]);
  await Promise.all([a.waitForLine(/^holding/, 30_000), b.waitForLine(/^holding/, 30_000)]);
  expect(liveChildren()).toBe(2);
  await killChildren();
  expect(liveChildren()).toBe(0);
  expect([a.proc.signalCode, b.proc.signalCode]).toEqual(["SIGKILL", "SIGKILL"]);
  openDatabase(tmp.file("a.db")).close(); // the lock went with the holder
});

test("a fixture exits by itself when the process that started it is killed -9 (its stdin closes)", async () => {
  const parent = spawnBun("test/support/fixtures/parent-of-holder.ts", [tmp.file("shop.db")]);
  const pid = Number((await parent.waitForLine(/^child \d+$/, 30_000)).split(" ")[1]);
  expect(alive(pid)).toBe(true);
  parent.proc.kill("SIGKILL");
  await parent.proc.exited;
  await waitFor(() => !alive(pid), 10_000, `orphaned holder ${pid} to exit`);
  openDatabase(tmp.file("shop.db")).close();
});

test("the marker variable reaches every child, so .ci/run can find leftovers", async () => {
  const child = spawnBun("test/db/fixtures/hold-open.ts", [tmp.file("m.db")]);
  await child.waitForLine(/^holding/, 30_000);
  const environ = await Bun.file(`/proc/${child.proc.pid}/environ`).text().catch(() => null);
  if (environ === null) return; // no /proc on this system: nothing to check here
  expect(environ.split("\0")).toContain(`BACKROOM_TEST_CHILD=${process.env.BACKROOM_TEST_CHILD ?? "local"}`);
});
