// Who am I, and tokens: GET /api/me; POST /api/users/:id/tokens (admin) issues a token and
// shows it once; DELETE /api/tokens/:id revokes one (admin, or the token's own user).
import type { Elysia } from "elysia";
import type { AppContext } from "./context.ts";
import { forbidden, notFound, unauthorized } from "../errors.ts";
import { idOf } from "./model-routes.ts";

export function registerAuthRoutes(app: Elysia, ctx: AppContext): string[] {
  const signedIn = (request: Request) => {
    const user = ctx.auth(request);
    if (!user) throw unauthorized();
    return user;
  };

  app.get("/api/me", ({ request }) => ({ data: signedIn(request) }));

  app.post("/api/users/:id/tokens", ({ request, params, set }) => {
    if (!ctx.isAdmin(signedIn(request))) throw forbidden("issuing tokens needs the admin role");
    if (!ctx.services.model("users").get(idOf(params))) throw notFound("User");
    const { id, token } = ctx.services.tokens.issue(idOf(params), "api");
    set.status = 201;
    return { data: { id, user_id: idOf(params), token } };
  });

  app.delete("/api/tokens/:id", ({ request, params }) => {
    const user = signedIn(request);
    const token = ctx.services.tokens.find(idOf(params));
    if (!token || (token.user_id !== user.id && !ctx.isAdmin(user))) throw notFound("token");
    ctx.services.tokens.revoke(token.id);
    return new Response(null, { status: 204 });
  });

  return ["/api/me", "/api/users/:id/tokens", "/api/tokens/:id"];
}
