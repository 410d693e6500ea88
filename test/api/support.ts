// Test helpers for the REST layer: an app on an in-memory database, requests without a socket.
import type { AnyElysia } from "elysia";
import { createApp, type AppOptions } from "../../src/api/app.ts";
import type { Services } from "../../src/models/services.ts";
import { openDatabase } from "../../src/db/index.ts";
import { SqliteQueue, jobsMigrations } from "../../src/jobs/sqlite.ts";
import { silentLogger } from "../../src/log.ts";

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export function request(app: AnyElysia) {
  return async (method: string, path: string, options: { body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await app.handle(new Request(`http://localhost${path}`, { method, body, headers }));
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}

export function testApp(options: Partial<AppOptions> = {}) {
  const db = options.db ?? openDatabase(":memory:", { migrations: jobsMigrations });
  const queue = options.queue ?? new SqliteQueue(db);
  const built = createApp({ logger: silentLogger, ...options, db, queue });
  return { ...built, db, queue, call: request(built.app) };
}

export function addUser(services: Services, name: string, roles: string[] = []): { id: string; token: string } {
  const user = services.model("users").create({ name, email: `${name}@example.com`, roles }, { auth: null, services });
  return { id: user.id as string, token: services.tokens.issue(user.id as string, "test").token };
}
