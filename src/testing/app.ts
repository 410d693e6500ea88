// An app of your own under test, end to end and in memory: its routes answered without a
// socket, its jobs run on demand, its clock moved by hand, its mail kept in a list. Built from
// the same definition the binary runs (defineApp), on an in-memory SQLite file, so an action's
// writes and the jobs it enqueues commit (or roll back) together exactly as in production.
import { ManualClock } from "../clock.ts";
import { openDatabase } from "../db/open.ts";
import { SqliteQueue } from "../jobs/sqlite.ts";
import type { JobState } from "../jobs/types.ts";
import { inlineSandboxHandlers } from "../jobs/sandbox-inline.ts";
import { Worker } from "../jobs/worker.ts";
import { silentLogger, type Logger } from "../log.ts";
import { buildApp } from "../runtime/build.ts";
import { migrationsOf, type AppDefinition } from "../runtime/define.ts";
import type { MailMessage, Mailer } from "../runtime/mailer.ts";
import type { FlagValues } from "../runtime/settings.ts";

export interface TestAppOptions {
  /** The app's own settings (its declared defaults fill the rest). */
  settings?: FlagValues;
  /** Default: a clock at 2026-01-01T00:00:00Z that moves only with `advance()`. */
  clock?: ManualClock;
  logger?: Logger;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body (null for an empty one). */
  body: any;
}

export interface TestApp {
  clock: ManualClock;
  /** Every message the app sent, in order. */
  mail: MailMessage[];
  services: ReturnType<typeof buildApp>["services"];
  /** A request to the app, as a client would send it (no socket). */
  call(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<TestResponse>;
  /** A user with these roles, and a bearer token for it. */
  user(name: string, roles?: string[]): { id: string; token: string };
  /** Runs every job due now — and those they enqueue — until nothing is left to run. Jobs run only then. */
  drain(): Promise<void>;
  /** Moves the clock (retries and delayed jobs fall due), then drains. */
  advance(ms: number): Promise<void>;
  /** Status rows of the jobs of `type` (all types when omitted), oldest first. */
  jobs(type?: string): Promise<JobState[]>;
  close(): Promise<void>;
}

export function createTestApp(definition: AppDefinition, options: TestAppOptions = {}): TestApp {
  const clock = options.clock ?? new ManualClock();
  const logger = options.logger ?? silentLogger;
  const db = openDatabase(":memory:", { migrations: migrationsOf(definition), synchronous: "NORMAL" });
  const queue = new SqliteQueue(db, { clock });
  const mail: MailMessage[] = [];
  const mailer: Mailer = {
    async send(message) {
      mail.push(message);
      return { messageId: message.messageId ?? `<${mail.length}@test>`, url: `memory://mail/${mail.length}` };
    },
    close() {},
  };
  const built = buildApp(definition, { db, queue, mailer, logger, clock, settings: options.settings });
  built.seed();
  // Jobs run only when the test says so (drain, advance), not as soon as they are enqueued:
  // the worker is not told of new jobs, and its poll is an hour of real time.
  const source = {
    settleAndClaim: queue.settleAndClaim.bind(queue),
    extendLeases: queue.extendLeases.bind(queue),
    takeExpired: queue.takeExpired.bind(queue),
    nextDueAt: queue.nextDueAt.bind(queue),
    onAvailable: () => () => {},
  };
  // Sandboxed types run in-process here (their module's export, called directly): no threads in a test.
  const handlers = { ...built.handlers, ...inlineSandboxHandlers(built.sandboxes, db.sqlite) };
  const worker = new Worker({ source, handlers, clock, logger, concurrency: 1, prefetch: 0, pollIntervalMs: 3_600_000 }).start();
  let users = 0;
  return {
    clock,
    mail,
    services: built.services,
    async call(method, path, { token, body, headers = {} } = {}) {
      const init: RequestInit = { method, headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
      if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      const response = await built.app.handle(new Request(`http://test.local${path}`, init));
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
    },
    user(name, roles = []) {
      const services = built.services;
      const created = services.model("users").create({ name, email: `${name}.${++users}@example.com`, roles }, { auth: null, services });
      return { id: created.id as string, token: services.tokens.issue(created.id as string, "test").token };
    },
    drain: () => worker.whenIdle(),
    async advance(ms) {
      clock.advance(ms);
      await worker.whenIdle();
    },
    async jobs(type) {
      const where = type === undefined ? [] : [[{ field: "type", op: "eq" as const, value: type }]];
      const { rows } = queue.listStatuses({ where, sort: [{ field: "created_at", direction: "asc" }], limit: 1_000, offset: 0 });
      return rows.map((row) => queue.getStatus(row.id as string)!);
    },
    async close() {
      await worker.shutdown(1_000);
      db.close();
    },
  };
}
