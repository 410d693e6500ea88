// Child processes for crash and ownership tests: real processes, real SIGKILL.
import type { Subprocess } from "bun";

export interface Child {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the first stdout line that matches. */
  waitForLine(match: RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
  /** Everything written to stderr so far; once the process has exited and it is all read, the whole. */
  errors(): Promise<string>;
}

export function spawnBun(script: string, args: string[]): Child {
  const proc = Bun.spawn([process.execPath, script, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
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
