// Realtime push: GET /api/realtime upgrades to a WebSocket. The client authenticates with its
// token (`?token=` — browsers cannot set headers on a WebSocket — or a first message
// {"type":"auth","token"}), then sends {"type":"subscribe","pattern":"job.>"} and receives
// {"type":"event","event":{…}} for matching events, scoped like REST reads: an admin gets
// everything; a user gets events visible to all, and its own (its jobs, its orders).
// A slow client is bounded: past `maxBufferedBytes` waiting to be sent, it is disconnected.
import type { Elysia } from "elysia";
import type { EventBus } from "../events/bus.ts";
import type { Event } from "../events/event.ts";
import { compilePattern } from "../events/pattern.ts";
import type { AuthUser } from "./auth.ts";
import type { AppContext } from "./context.ts";

interface Socket {
  id: string;
  send(data: string): number;
  close(code?: number, reason?: string): void;
  raw: { getBufferedAmount(): number };
  data: { query: Record<string, string | undefined> };
}

interface Connection {
  user: AuthUser | null;
  subscriptions: Map<string, () => void>;
}

const MAX_SUBSCRIPTIONS = 50;

export function registerRealtimeRoute(app: Elysia, ctx: AppContext, bus: EventBus, options: { maxBufferedBytes?: number } = {}): string {
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const connections = new Map<string, Connection>();
  const reply = (ws: Socket, message: object) => ws.send(JSON.stringify(message));
  const authenticate = (token: string | undefined): AuthUser | null => (token ? ctx.services.tokens.authenticate(token) : null);
  const visible = (user: AuthUser, event: Event) => ctx.isAdmin(user) || event.visibility === "all" || (event.visibility === "owner" && event.actorid === user.id);

  const deliver = (ws: Socket, connection: Connection, event: Event) => {
    if (!connection.user || !visible(connection.user, event)) return;
    if (ws.raw.getBufferedAmount() > maxBuffered) {
      ws.close(1013, "too slow: the server will not buffer more events for this client");
      return;
    }
    reply(ws, { type: "event", event });
  };

  (app as unknown as { ws: (path: string, handlers: object) => void }).ws("/api/realtime", {
    open(ws: Socket) {
      const user = authenticate(ws.data.query.token);
      if (ws.data.query.token && !user) {
        reply(ws, { type: "error", message: "the token is not valid" });
        return ws.close(1008, "unauthorized");
      }
      connections.set(ws.id, { user, subscriptions: new Map() });
      reply(ws, { type: "ready", authenticated: user !== null });
    },
    message(ws: Socket, raw: unknown) {
      const connection = connections.get(ws.id);
      if (!connection) return;
      const message = (typeof raw === "string" ? safeJson(raw) : raw) as { type?: string; token?: string; pattern?: string } | null;
      if (message?.type === "auth") {
        connection.user = authenticate(message.token);
        if (!connection.user) return void ws.close(1008, "unauthorized");
        return void reply(ws, { type: "ready", authenticated: true });
      }
      if (!connection.user) return void reply(ws, { type: "error", message: "authenticate first: send {\"type\":\"auth\",\"token\":…} or connect with ?token=" });
      if (message?.type === "subscribe" && typeof message.pattern === "string") {
        try {
          compilePattern(message.pattern);
        } catch (error) {
          return void reply(ws, { type: "error", message: (error as Error).message });
        }
        if (connection.subscriptions.size >= MAX_SUBSCRIPTIONS) return void reply(ws, { type: "error", message: `at most ${MAX_SUBSCRIPTIONS} subscriptions` });
        if (!connection.subscriptions.has(message.pattern)) {
          connection.subscriptions.set(message.pattern, bus.subscribe(message.pattern, (event) => deliver(ws, connection, event)));
        }
        return void reply(ws, { type: "subscribed", pattern: message.pattern });
      }
      if (message?.type === "unsubscribe" && typeof message.pattern === "string") {
        connection.subscriptions.get(message.pattern)?.();
        connection.subscriptions.delete(message.pattern);
        return void reply(ws, { type: "unsubscribed", pattern: message.pattern });
      }
      reply(ws, { type: "error", message: 'unknown message: send {"type":"subscribe","pattern":"job.>"}' });
    },
    close(ws: Socket) {
      const connection = connections.get(ws.id);
      for (const off of connection?.subscriptions.values() ?? []) off();
      connections.delete(ws.id);
    },
  });
  return "/api/realtime";
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
