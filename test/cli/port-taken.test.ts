// A till owns its port: a second server started on a port already in use must refuse, not bind
// beside the first (SO_REUSEPORT) and take a share of its requests and their bearer tokens.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { childProcesses, listeningUrl } from "../support/serve-child.ts";
import { tempDir } from "../support/temp.ts";

let tmp: ReturnType<typeof tempDir>;
const children = childProcesses();
beforeEach(() => (tmp = tempDir()));
afterEach(async () => {
  await children.killAll();
  tmp.remove();
});

test("a second serve on a port already taken exits 1 with one line naming the port; the first keeps serving", async () => {
  const first = children.spawn("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("first.db")]);
  const url = await listeningUrl(first);
  const port = new URL(url).port;

  // Another database, default log level: what an operator would type.
  const second = children.spawn("src/main.ts", ["serve", "--port", port, "--db", tmp.file("second.db")]);
  const outcome = await Promise.race([
    second.proc.exited.then((code) => `exited ${code}`),
    second.waitForLine(/^Backroom listening on /).then(() => "listening", () => "no line"),
    Bun.sleep(20_000).then(() => "still running after 20 s"),
  ]);
  expect(outcome).toBe("exited 1");
  expect(await second.errors()).toBe(`backroom: port ${port} on 127.0.0.1 is already in use (another Backroom or another program); stop it or choose another --port\n`);
  expect(second.output()).toBe("");

  const healthy = await fetch(`${url}/healthz`);
  expect(healthy.status).toBe(200);
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);
});
