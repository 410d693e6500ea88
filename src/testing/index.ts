export { createTestRuntime, TestRuntime, EnqueuedAssertionError, type TestRuntimeOptions } from "./runtime.ts";
export { ManualClock } from "../clock.ts";
export { createTestApp, type TestApp, type TestAppOptions, type TestResponse } from "./app.ts";
