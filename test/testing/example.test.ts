// The documented example (docs/testing.md): testing your own handlers with the test runtime.
import { afterEach, beforeEach, expect, test } from "bun:test";
import type { Handler } from "../../src/jobs/index.ts";
import { createTestRuntime, EnqueuedAssertionError, type TestRuntime } from "../../src/testing/index.ts";

// Code under test: a sign-up enqueues a welcome mail; the welcome mail schedules a follow-up
// three days later; the mailer is flaky.
const attempts: Record<string, number> = {};
const signUp = (runtime: TestRuntime, email: string) => runtime.queue.enqueue({ type: "welcome_mail", payload: { email } });
function handlers(runtime: TestRuntime): Record<string, Handler> {
  return {
    welcome_mail: (job) => {
      attempts[job.id] = (attempts[job.id] ?? 0) + 1;
      if (attempts[job.id] === 1) throw new Error("mail server busy");
      const { email } = job.payload as { email: string };
      runtime.queue.enqueueAt(runtime.clock.now() + 3 * 86_400_000, { type: "follow_up", payload: { email, day: 3 } });
    },
    follow_up: () => {},
  };
}

let runtime: TestRuntime;
beforeEach(() => (runtime = createTestRuntime({ handlers })));
afterEach(() => runtime.close());

test("a sign-up enqueues the welcome mail with the address", () => {
  signUp(runtime, "ana@example.com");
  expect(runtime.assertEnqueued("welcome_mail", { email: "ana@example.com" }).status).toBe("enqueued");
  expect(() => runtime.assertEnqueued("welcome_mail", { email: "ben@example.com" })).toThrow(EnqueuedAssertionError);
});

test("drain runs due jobs now; advance moves the clock to retries and delayed jobs", async () => {
  const id = signUp(runtime, "ana@example.com");
  await runtime.drain();
  expect(runtime.queue.getStatus(id)?.status).toBe("failed"); // first attempt failed; retry in about a second
  runtime.refuteEnqueued("follow_up");
  await runtime.advance(2_000);
  expect(runtime.queue.getStatus(id)?.status).toBe("succeeded");
  const followUp = runtime.assertEnqueued("follow_up", { email: "ana@example.com", day: 3 });
  await runtime.advance(86_400_000);
  expect(runtime.queue.getStatus(followUp.id)?.status).toBe("enqueued"); // not due for two more days
  await runtime.advance(2 * 86_400_000);
  expect(runtime.queue.getStatus(followUp.id)?.status).toBe("succeeded");
  expect(runtime.enqueued().map((j) => j.type)).toEqual(["welcome_mail", "follow_up"]);
});
