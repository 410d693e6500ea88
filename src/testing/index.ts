export { createTestRuntime, TestRuntime, EnqueuedAssertionError, type TestRuntimeOptions } from "./runtime.ts";
export { ManualClock } from "../clock.ts";
