// Child processes for crash, ownership and server tests: real processes, real SIGKILL — and one
// registry of them, so none outlives the test that started it.
//
// - Every child is spawned with a stdin pipe that nobody writes: when the test process goes away
//   (even by SIGKILL) the pipe closes. Bun children get test/support/exit-with-parent.ts
//   preloaded, which exits on that; our own fixtures need nothing else. Other commands (the
//   compiled binary, redis-server) start under `setpriv --pdeathsig KILL` where it exists: the
//   kernel kills them when the test process dies (setpriv execs them: the pid is theirs).
// - Each test file that spawns calls `afterEach(killChildren)` (children of one test) or
//   `afterAll(killChildren)` (a server shared by a file's tests): every child still alive is
//   killed with SIGKILL and awaited, whether the test passed or not.
// - A last `exit` hook kills whatever is left when `bun test` itself ends.
// - Each child carries BACKROOM_TEST_CHILD in its environment (inherited by its own children):
//   the run's mark when `.ci/run` set one for the suite, "local" otherwise. After the suite,
//   `.ci/run` looks for any process still carrying its mark.
import type { Subprocess } from "bun";
import { fileURLToPath } from "node:url";

type Proc = Subprocess<"pipe", "pipe", "pipe">;

export interface Child {
  proc: Proc;
  /** Resolves with the first stdout line that matches. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
  /** Everything written to stderr so far; once the process has exited and it is all read, the whole. */
  errors(): Promise<string>;
}

const live = new Set<Subprocess>();
const GUARD = fileURLToPath(new URL("./exit-with-parent.ts", import.meta.url));
const MARK = { BACKROOM_TEST_CHILD: process.env.BACKROOM_TEST_CHILD ?? "local" };
const SETPRIV = process.platform === "linux" ? Bun.which("setpriv") : null;

process.on("exit", () => {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
});

/** Adds a process spawned some other way to the registry (killed by killChildren and at exit). */
export function track<P extends Subprocess>(proc: P): P {
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

/** SIGKILL every registered child that is still alive, and wait until each has exited. */
export async function killChildren(): Promise<void> {
  const procs = [...live];
  for (const proc of procs) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
  await Promise.all(procs.map((p) => p.exited));
}

/** How many registered children are alive (for tests of the registry itself). */
export function liveChildren(): number {
  return live.size;
}

/** Any command, registered, with the marker in its environment and a stdin pipe held open. */
export function spawnCommand(cmd: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Child {
  const guarded = cmd[0] !== process.execPath && SETPRIV ? [SETPRIV, "--pdeathsig", "KILL", ...cmd] : cmd;
  const proc = track(Bun.spawn(guarded, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, ...MARK },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  }));
  return watch(proc);
}

/** A Bun script (a fixture, or src/main.ts) that exits by itself once this process is gone. */
export function spawnBun(script: string, args: string[], options: { env?: Record<string, string | undefined> } = {}): Child {
  return spawnCommand([process.execPath, "--preload", GUARD, script, ...args], options);
}

function watch(proc: Proc): Child {
  let buffer = "";
  let stderr = "";
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stdout) {
      buffer += decoder.decode(chunk);
      for (const w of [...waiters]) {
        const line = buffer.split("\n").find((l) => w.match.test(l));
        if (line !== undefined) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  })();
  // Read stderr as it comes: a chatty child must never block on a full pipe nobody reads.
  const stderrRead = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk);
  })().catch(() => {});
  const errors = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) await stderrRead;
    return stderr;
  };
  return {
    proc,
    output: () => buffer,
    errors,
    waitForLine(match, timeoutMs = 15_000) {
      const line = buffer.split("\n").find((l) => match.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${match} within ${timeoutMs} ms; stdout so far:\n${buffer}`)), timeoutMs);
        waiters.push({ match, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        void proc.exited.then(async (code) => {
          const text = await errors();
          setTimeout(() => reject(new Error(`child exited (${code}) before printing ${match}; stdout:\n${buffer}\nstderr:\n${text}`)), 50);
        });
      });
    },
  };
}
