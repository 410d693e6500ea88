// How a sandbox thread steps aside for the thread that answers HTTP (called by the thread
// itself, about itself). On Linux it asks for SCHED_IDLE: a thread of any other policy that
// wakes on its core preempts it at once. A nice value only lowers its share: under EEVDF a
// nice-10 thread still runs out its slice before a woken request handler gets the core, and
// with 200 jobs of 20 ms running the main thread waited 12–15 µs per request for a core
// (45,000 involuntary switches in 3 s) against 1–4 µs under SCHED_IDLE (bench/sandbox.ts).
// SCHED_IDLE ranks the thread only inside its own scheduling group (the process's cgroup or
// session), so other programs on the machine do not starve it; this process's own threads do
// when they keep every core busy, which is the point. Elsewhere, or when libc cannot be
// reached, the thread takes the nice value (Linux: per thread; may apply to the process or
// fail elsewhere: ignored).
import { dlopen, FFIType, ptr } from "bun:ffi";
// Node's modules by their default export: a named import makes Bun build the module's whole
// namespace at start (node:fs: ~5 ms of a start here; measured in issue 20).
import os from "node:os";

const SCHED_IDLE = 5;

/** Lowers the calling thread's CPU priority; says how: "idle" (SCHED_IDLE), "nice", or "none". */
export function yieldToOtherThreads(nice: number): "idle" | "nice" | "none" {
  if (nice <= 0) return "none";
  if (process.platform === "linux" && setIdlePolicy()) return "idle";
  try {
    os.setPriority(nice);
    return "nice";
  } catch {
    return "none";
  }
}

function setIdlePolicy(): boolean {
  try {
    const libc = dlopen("libc.so.6", { sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 } });
    try {
      // pid 0: the calling thread. SCHED_IDLE takes priority 0 (struct sched_param).
      return libc.symbols.sched_setscheduler(0, SCHED_IDLE, ptr(new Int32Array(1))) === 0;
    } finally {
      libc.close();
    }
  } catch {
    return false; // no glibc (musl), or no FFI: the nice value will do
  }
}
