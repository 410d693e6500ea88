// What one oversized WebSocket message from an unauthenticated client costs the server
// (issue 16, item 9): the binary in a child process, a client that never authenticates sends
// one 15 MB message to /api/realtime; prints the time until the server answers or closes,
// and how far the server's resident memory rose above its idle level (VmHWM − VmRSS before).
// Each payload runs in a fresh server, as VmHWM is a high-water mark for the process's life.
import { readFileSync } from "node:fs";
import { spawnBun } from "../test/support/child.ts";
import { tempDir } from "../test/support/temp.ts";

const SIZE = 15 * 1024 * 1024;
const payloads: Record<string, () => string> = {
  // 5 million empty objects: the most a JSON parse can be made to build from 15 MB.
  "array of {}": () => `[${"{},".repeat(SIZE / 3 - 1)}{}]`,
  // A 15 MB "token": before the fix it is hashed (SHA-256) and looked up.
  "auth, 15 MB token": () => JSON.stringify({ type: "auth", token: "x".repeat(SIZE - 30) }),
};

function memoryKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`))!;
  return Number(/(\d+)/.exec(line)![1]);
}

for (const [name, make] of Object.entries(payloads)) {
  const tmp = tempDir();
  const server = spawnBun("src/main.ts", ["serve", "--port", "0", "--db", tmp.file("abuse.db"), "--log-level", "error"]);
  try {
    const base = /http:\/\/(\S+)/.exec(await server.waitForLine(/^Backroom listening on /, 30_000))![1]!;
    const message = make();
    const ws = new WebSocket(`ws://${base}/api/realtime`);
    const ready = Promise.withResolvers<void>();
    const answered = Promise.withResolvers<string>();
    ws.onmessage = (m) => (String(m.data).includes('"ready"') ? ready.resolve() : answered.resolve(`message ${String(m.data).slice(0, 60)}`));
    ws.onclose = (e) => answered.resolve(`close ${e.code}`);
    await ready.promise;
    Bun.gc(true);
    const before = memoryKb(server.proc.pid, "VmRSS");
    const started = performance.now();
    ws.send(message);
    const outcome = await Promise.race([answered.promise, Bun.sleep(60_000).then(() => "no answer in 60 s")]);
    const ms = performance.now() - started;
    const peak = memoryKb(server.proc.pid, "VmHWM");
    console.log(`${name.padEnd(18)} ${(message.length / 1e6).toFixed(1)} MB → ${outcome.padEnd(24)} in ${ms.toFixed(0).padStart(5)} ms; server RSS +${((peak - before) / 1024).toFixed(0)} MB (idle ${(before / 1024).toFixed(0)} MB)`);
    ws.close();
  } finally {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
    tmp.remove();
  }
}
