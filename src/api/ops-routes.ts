// Operations: GET /healthz (the process answers), GET /readyz (the database is writable, the
// worker runs, migrations are current — 503 with the failing checks otherwise) and
// GET /metrics (Prometheus text). Unauthenticated, as probes and scrapers expect; bind the
// server to a local address (the default) to keep them off the shop floor's network.
import type { Elysia } from "elysia";
import type { BackroomMetrics } from "../ops/backroom-metrics.ts";
import type { ReadinessCheck } from "../ops/readiness.ts";

export interface OperationsOptions {
  checks?: ReadinessCheck[];
  metrics?: BackroomMetrics;
}

export function registerOpsRoutes(app: Elysia, options: OperationsOptions): string[] {
  app.get("/healthz", () => ({ data: { status: "ok" } }));
  app.get("/readyz", ({ set }) => {
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
    return ready ? { data: { status: "ready", checks: results } } : { error: { code: "NOT_READY", message: "not ready", details: results.filter((r) => !r.ok).map((r) => ({ field: r.name, message: String(r.error) })) } };
  });
  if (options.metrics) {
    const metrics = options.metrics;
    app.get("/metrics", async () => new Response(await metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
  }
  return ["/healthz", "/readyz", ...(options.metrics ? ["/metrics"] : [])];
}
