// Named queues over REST, for admins: GET /api/queues (every queue declared in code, paused
// or resumed before, or holding jobs: its state, limits and jobs by status), and POST
// /api/queues/:name/pause|resume. Pausing a queue nobody declared is allowed — an operator may
// stop a queue before its first job arrives — so an unknown but well-formed name is not a 404;
// a malformed one is a 422. Also DELETE /api/admin/jobs/:id: a finished job and its history.
import { Type as t, type Static } from "@sinclair/typebox";
import type { Elysia } from "elysia";
import { errors, NoContent } from "./route-docs.ts";
import { NamedQueue, One } from "./schemas.ts";
import { authorize } from "./auth.ts";
import type { AppContext } from "./context.ts";
import { conflict, notFound, validationError } from "../errors.ts";
import type { QueueDefinitions } from "../jobs/named-queues.ts";
import { emptyCounts } from "../jobs/queue-states.ts";
import type { QueueControl, QueueState } from "../jobs/queue.ts";
import { QUEUE_NAME } from "../jobs/types.ts";

export function queueToJson(state: QueueState, declared: QueueDefinitions): Static<typeof NamedQueue> {
  const definition = declared[state.name] ?? {};
  return {
    name: state.name,
    paused: state.paused,
    concurrency: definition.concurrency ?? null,
    running: state.counts.running,
    counts: { ...state.counts },
    rate_limit: definition.rateLimit ? { limit: definition.rateLimit.limit, interval_ms: definition.rateLimit.intervalMs } : null,
  };
}

/** The engine's queues, with the declared ones that have neither jobs nor stored state yet. */
export async function listQueues(queue: QueueControl, declared: QueueDefinitions): Promise<QueueState[]> {
  const states = await queue.queueStates();
  const known = new Set(states.map((s) => s.name));
  for (const name of Object.keys(declared)) if (!known.has(name)) states.push({ name, paused: false, counts: emptyCounts() });
  return states.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function queueRoutes(ctx: AppContext, declared: QueueDefinitions) {
  const queue = ctx.services.queue;
  const admin = (request: Request) => authorize({ role: ctx.adminRole }, ctx.auth(request), ctx.adminRole);
  const docs = ctx.docs;
  const tags = ["queues"];
  const item = "/api/queues/:name";
  const checkedName = (name: string) => {
    if (!QUEUE_NAME.test(name)) throw validationError([{ field: "name", message: "a queue name is 1–64 of a-z 0-9 _ . - starting with a letter or digit" }], `not a queue name: "${name.slice(0, 80)}"`);
    return name;
  };
  const setPaused = async (request: Request, rawName: string, paused: boolean) => {
    admin(request);
    const name = checkedName(rawName);
    await queue.setQueuePaused(name, paused);
    const state = (await listQueues(queue, declared)).find((s) => s.name === name) ?? { name, paused, counts: emptyCounts() };
    return { data: queueToJson(state, declared) };
  };
  const verb = (name: "pause" | "resume", summary: string) =>
    docs.route({ method: "POST", path: `${item}/${name}`, operationId: `${name}Queue`, summary, tags, response: { 200: One(NamedQueue), ...errors(401, 403, 422) } });

  return (app: Elysia) => app
    .get("/api/queues", async ({ request }) => {
      admin(request);
      return { data: (await listQueues(queue, declared)).map((s) => queueToJson(s, declared)) };
    }, docs.route({ method: "GET", path: "/api/queues", operationId: "listQueues", summary: "Named queues: pause state, limits, jobs by status (admin)", tags, response: { 200: One(t.Array(NamedQueue)), ...errors(401, 403) } }))
    .post(`${item}/pause`, ({ request, params }) => setPaused(request, params.name, true), verb("pause", "Pause a queue: it accepts jobs and none is claimed until resumed; kept across restarts (admin)"))
    .post(`${item}/resume`, ({ request, params }) => setPaused(request, params.name, false), verb("resume", "Resume a paused queue (admin)"))
    .delete("/api/admin/jobs/:id", async ({ request, params }) => {
      admin(request);
      const result = await queue.delete(params.id);
      if (result === "not_found") throw notFound("job");
      if (result === "not_finished") throw conflict("only a finished job (succeeded, dead or cancelled) can be deleted");
      return new Response(null, { status: 204 });
    }, docs.route({ method: "DELETE", path: "/api/admin/jobs/:id", operationId: "deleteAdminJob", summary: "Delete a finished job and its attempt history (admin)", tags: ["admin"], response: { 204: NoContent, ...errors(401, 403, 404, 409) } }));
}
