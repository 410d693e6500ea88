// Realtime push: GET /api/realtime upgrades to a WebSocket. The client authenticates with its
// token (`?token=` — browsers cannot set headers on a WebSocket — or a first message
// {"type":"auth","token"}), then sends {"type":"subscribe","pattern":"job.>"} and receives
// {"type":"event","event":{…}} for matching events, scoped like REST reads: an admin gets
// everything; a user gets events visible to all, and its own (its jobs, its orders).
// A slow client is bounded: past `maxBufferedBytes` waiting to be sent, it is disconnected.
// A socket is only as good as its token: a revoke, a demotion or a deletion (any change the
// TokenService reports) re-checks every socket at once, closing (1008) those whose token no
// longer works and re-scoping the rest; each delivery also re-checks if a change came since.
// A client that has not authenticated within `authTimeoutMs` is closed (1008). Message size
// is capped by the server's `maxPayloadLength` (app.ts), before anything is parsed.
import type { Elysia } from "elysia";
import type { EventBus } from "../events/bus.ts";
import type { Event } from "../events/event.ts";
import { eventForNonAdmins } from "../events/job-events.ts";
import { compilePattern } from "../events/pattern.ts";
import type { AuthUser } from "../models/users.ts";
import type { AppContext } from "./context.ts";

interface Socket {
  id: string;
  send(data: string): number;
  close(code?: number, reason?: string): void;
  raw: { getBufferedAmount(): number };
  data: { query: Record<string, string | undefined> };
}

interface Connection {
  ws: Socket;
  token: string | null;
  user: AuthUser | null;
  /** The TokenService generation `user` was looked up at. */
  checkedAt: number;
  subscriptions: Map<string, () => void>;
  authDeadline: ReturnType<typeof setTimeout> | null;
}

export interface RealtimeOptions {
  /** Bytes waiting to be sent to one client before it is disconnected (1013). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** How long a socket may stay open without authenticating (closed 1008). Default 5 s. */
  authTimeoutMs?: number;
}

const MAX_SUBSCRIPTIONS = 50;
/** Largest message a client may send: an auth with a token, a subscribe with a pattern. */
export const MAX_REALTIME_MESSAGE_BYTES = 16 * 1024;

export function registerRealtimeRoute(app: Elysia, ctx: AppContext, bus: EventBus, options: RealtimeOptions = {}): string {
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const authTimeoutMs = options.authTimeoutMs ?? 5_000;
  const tokens = ctx.services.tokens;
  const connections = new Map<string, Connection>();
  const reply = (ws: Socket, message: object) => ws.send(JSON.stringify(message));
  const authenticate = (token: string | undefined | null): AuthUser | null => (token ? tokens.authenticate(token) : null);
  const visible = (user: AuthUser, event: Event) => ctx.isAdmin(user) || event.visibility === "all" || (event.visibility === "owner" && event.actorid === user.id);

  const signIn = (connection: Connection, token: string | null, user: AuthUser) => {
    connection.token = token;
    connection.user = user;
    connection.checkedAt = tokens.generation;
    if (connection.authDeadline) clearTimeout(connection.authDeadline);
    connection.authDeadline = null;
  };
  /** The connection's user as of now: re-read when tokens or users changed since the last look; closed if gone. */
  const current = (connection: Connection): AuthUser | null => {
    if (!connection.user || connection.checkedAt === tokens.generation) return connection.user;
    connection.checkedAt = tokens.generation;
    connection.user = authenticate(connection.token);
    if (!connection.user) {
      for (const off of connection.subscriptions.values()) off();
      connection.subscriptions.clear();
      connection.ws.close(1008, "credentials revoked");
    }
    return connection.user;
  };
  // The change is reported from inside the write's transaction: look after it has committed
  // (or rolled back), once for a burst of changes.
  let recheckQueued = false;
  tokens.onChange(() => {
    if (recheckQueued || connections.size === 0) return;
    recheckQueued = true;
    setTimeout(() => {
      recheckQueued = false;
      for (const connection of connections.values()) current(connection);
    }, 0);
  });

  const deliver = (ws: Socket, connection: Connection, event: Event) => {
    const user = current(connection);
    if (!user || !visible(user, event)) return;
    if (ws.raw.getBufferedAmount() > maxBuffered) {
      ws.close(1013, "too slow: the server will not buffer more events for this client");
      return;
    }
    reply(ws, { type: "event", event: ctx.isAdmin(user) ? event : eventForNonAdmins(event) });
  };

  (app as unknown as { ws: (path: string, handlers: object) => void }).ws("/api/realtime", {
    // The upgrade's answer (101) carries the request's id like every other answer (app.ts).
    upgrade({ request, set }: { request: Request; set: { headers: Record<string, string> } }) {
      set.headers["x-request-id"] = ctx.requestId(request);
    },
    open(ws: Socket) {
      const token = ws.data.query.token ?? null;
      const user = authenticate(token);
      if (token && !user) {
        reply(ws, { type: "error", message: "the token is not valid" });
        return ws.close(1008, "unauthorized");
      }
      const connection: Connection = { ws, token: null, user: null, checkedAt: 0, subscriptions: new Map(), authDeadline: null };
      connections.set(ws.id, connection);
      if (user) signIn(connection, token, user);
      else connection.authDeadline = setTimeout(() => connection.user || ws.close(1008, "authentication timed out"), authTimeoutMs);
      reply(ws, { type: "ready", authenticated: user !== null });
    },
    message(ws: Socket, raw: unknown) {
      const connection = connections.get(ws.id);
      if (!connection) return;
      const message = (typeof raw === "string" ? safeJson(raw) : raw) as { type?: string; token?: string; pattern?: string } | null;
      if (message?.type === "auth") {
        const token = typeof message.token === "string" ? message.token : null;
        const user = authenticate(token);
        if (!user) return void ws.close(1008, "unauthorized");
        signIn(connection, token, user);
        return void reply(ws, { type: "ready", authenticated: true });
      }
      if (!current(connection)) return void reply(ws, { type: "error", message: "authenticate first: send {\"type\":\"auth\",\"token\":…} or connect with ?token=" });
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
      if (connection?.authDeadline) clearTimeout(connection.authDeadline);
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
