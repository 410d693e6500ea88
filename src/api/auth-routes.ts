// Who am I, and tokens: GET /api/me; POST /api/users/:id/tokens (admin) issues a token and
// shows it once; DELETE /api/tokens/:id revokes one (admin, or the token's own user).
import type { Elysia } from "elysia";
import { errors, NoContent } from "./route-docs.ts";
import { IssuedToken, Me, One } from "./schemas.ts";
import type { AppContext } from "./context.ts";
import { forbidden, notFound, unauthorized } from "../errors.ts";

export function authRoutes(ctx: AppContext) {
  const tags = ["auth"];
  const docs = ctx.docs;
  const signedIn = (request: Request) => {
    const user = ctx.auth(request);
    if (!user) throw unauthorized();
    return user;
  };

  return (app: Elysia) => app
    .get("/api/me", ({ request }) => ({ data: signedIn(request) }), docs.route({ method: "GET", path: "/api/me", operationId: "getMe", summary: "Who the token belongs to", tags, response: { 200: One(Me), ...errors(401) } }))
    .post("/api/users/:id/tokens", ({ request, params, status }) => {
      if (!ctx.isAdmin(signedIn(request))) throw forbidden("issuing tokens needs the admin role");
      if (!ctx.services.model("users").get(params.id)) throw notFound("User");
      const { id, token } = ctx.services.tokens.issue(params.id, "api");
      return status(201, { data: { id, user_id: params.id, token } });
    }, docs.route({ method: "POST", path: "/api/users/:id/tokens", operationId: "issueToken", summary: "Issue a token (admin); shown once", tags, response: { 201: One(IssuedToken), ...errors(401, 403, 404) } }))
    .delete("/api/tokens/:id", ({ request, params }) => {
      const user = signedIn(request);
      const token = ctx.services.tokens.find(params.id);
      if (!token || (token.user_id !== user.id && !ctx.isAdmin(user))) throw notFound("token");
      ctx.services.tokens.revoke(token.id);
      return new Response(null, { status: 204 });
    }, docs.route({ method: "DELETE", path: "/api/tokens/:id", operationId: "revokeToken", summary: "Revoke a token (admin, or its own user)", tags, response: { 204: NoContent, ...errors(401, 404) } }));
}
