// Operations: GET /healthz (the process answers), GET /readyz (the database is writable, the
// worker runs, migrations are current — 503 with the failing checks otherwise) and
// GET /metrics (Prometheus text). Unauthenticated, as probes and scrapers expect; bind the
// server to a local address (the default) to keep them off the shop floor's network.
import { Type as t } from "@sinclair/typebox";
import type { Elysia } from "elysia";
import { errors, type RouteDocs } from "./route-docs.ts";
import { Health, One, Ready } from "./schemas.ts";
import type { BackroomMetrics } from "../ops/backroom-metrics.ts";
import type { ReadinessCheck } from "../ops/readiness.ts";

export interface OperationsOptions {
  checks?: ReadinessCheck[];
  metrics?: BackroomMetrics;
}

export function opsRoutes(docs: RouteDocs, options: OperationsOptions) {
  const tags = ["operations"];
  const probes = (app: Elysia) => app
    .get("/healthz", () => ({ data: { status: "ok" as const } }), docs.route({ method: "GET", path: "/healthz", operationId: "getHealth", summary: "Liveness: the process answers", tags, auth: "none", response: { 200: One(Health), ...errors() } }))
    .get("/readyz", ({ set }) => {
      const results = (options.checks ?? []).map(({ name, check }) => {
        let outcome: boolean | string;
        try {
          outcome = check();
        } catch (error) {
          outcome = (error as Error).message;
        }
        return { name, ok: outcome === true, ...(outcome === true ? {} : { error: outcome === false ? "failed" : outcome }) };
      });
      const ready = results.every((r) => r.ok);
      set.status = ready ? 200 : 503;
      return ready
        ? { data: { status: "ready" as const, checks: results } }
        : ({ error: { code: "NOT_READY", message: "not ready", details: results.filter((r) => !r.ok).map((r) => ({ field: r.name, message: String(r.error) })) } } as never);
    }, docs.route({ method: "GET", path: "/readyz", operationId: "getReadiness", summary: "Readiness: the database is writable, the worker runs, migrations are current (503 NOT_READY with the failing checks)", tags, auth: "none", response: { 200: One(Ready), ...errors(503) } }));
  const metrics = options.metrics;
  const text = t.String({ description: "Prometheus text exposition format 0.0.4 (docs/operations.md lists the metrics)" });
  // One plugin whose type is either app (with or without /metrics), so Eden sees the probes in both.
  return (app: Elysia) => {
    const withProbes = probes(app);
    if (!metrics) return withProbes;
    return withProbes.get("/metrics", async () => new Response(await metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }), docs.route({ method: "GET", path: "/metrics", operationId: "getMetrics", summary: "Prometheus metrics: jobs by type and state, run and wait times, HTTP requests, database size", tags, auth: "none", contentType: "text/plain", response: { 200: text, ...errors() } }));
  };
}
