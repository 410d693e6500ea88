// Preloaded into every Bun child a test spawns (test/support/child.ts): the test holds the write
// end of this process's stdin and never writes to it, so end-of-file means the test process is
// gone (finished, crashed or killed -9) and this process must not outlive it. The stdin handle is
// unreferenced: a child that would exit by itself still does.
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(137));
(process.stdin as unknown as { unref?: () => void }).unref?.();
