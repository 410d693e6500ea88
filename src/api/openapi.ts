// The OpenAPI 3.1 document of an app, rendered from the routes' own declarations (route-docs.ts):
// the TypeBox schemas that validate the requests and type the routes for Eden, served at /openapi.json with a
// browsable page at /docs (self-contained: a till has no CDN).
import type { TSchema } from "@sinclair/typebox";
import { NoContent, type RouteDoc } from "./route-docs.ts";
import { ErrorEnvelope } from "./schemas.ts";

type Json = Record<string, unknown>;

const ERROR_TEXT: Record<number, string> = {
  400: "INVALID_JSON, EMPTY_BODY or INVALID_QUERY", 401: "UNAUTHORIZED: no valid bearer token", 403: "FORBIDDEN: the caller's role does not allow it",
  404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "BODY_TOO_LARGE: the body, or its declared length, is over the limit", 415: "UNSUPPORTED_MEDIA_TYPE: the body is not JSON",
  422: "VALIDATION_ERROR (wrong type, unknown or missing field) or IDEMPOTENCY_KEY_REUSED", 500: "INTERNAL: our fault (logged)", 503: "NOT_READY or UNAVAILABLE",
};

/**
 * A TypeBox schema as JSON Schema: the shared ones (by identity) as $refs to components, and a
 * union of string literals as an enum (what generators turn into a union type).
 */
function render(schema: TSchema, named: Map<TSchema, string>, top = false): Json {
  const name = named.get(schema);
  if (name && !top) return { $ref: `#/components/schemas/${name}` };
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties") out.properties = Object.fromEntries(Object.entries(value as Record<string, TSchema>).map(([k, v]) => [k, render(v, named)]));
    else if (key === "items" && !Array.isArray(value)) out.items = render(value as TSchema, named);
    else if ((key === "anyOf" || key === "allOf" || key === "oneOf") && Array.isArray(value)) out[key] = value.map((v: TSchema) => render(v, named));
    else if (key === "additionalProperties" && typeof value === "object") out.additionalProperties = render(value as TSchema, named);
    else if (key === "patternProperties") out.patternProperties = Object.fromEntries(Object.entries(value as Record<string, TSchema>).map(([k, v]) => [k, render(v, named)]));
    else out[key] = value;
  }
  const members = out.anyOf as Json[] | undefined;
  if (members && members.length > 0 && members.every((m) => typeof m.const === "string")) {
    delete out.anyOf;
    return { ...out, type: "string", enum: members.map((m) => m.const) };
  }
  return out;
}

/** Collects the titled object schemas under `schema`; two different ones may not share a title. */
function titled(schema: TSchema, named: Map<TSchema, string>, titles: Set<string>, seen: Set<TSchema>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  if (typeof schema.title === "string" && schema.type === "object") {
    if (titles.has(schema.title)) throw new Error(`two different schemas are titled "${schema.title}": rename one`);
    titles.add(schema.title);
    named.set(schema, schema.title);
  }
  // Plain loops: this runs at every start (componentNames), over a few hundred schemas.
  const properties = schema.properties as Record<string, TSchema> | undefined;
  if (properties) for (const name in properties) titled(properties[name]!, named, titles, seen);
  if (schema.items && !Array.isArray(schema.items)) titled(schema.items as TSchema, named, titles, seen);
  const members = schema.anyOf as TSchema[] | undefined;
  if (members) for (const member of members) titled(member, named, titles, seen);
}

const jsonBody = (schema: Json, description: string) => ({ description, content: { "application/json": { schema } } });

/** A schema with a title (the shared answers of schemas.ts, each model's record) is a component of that name; throws when two different ones share a title. */
export function componentNames(routes: readonly RouteDoc[]): Map<TSchema, string> {
  const named = new Map<TSchema, string>();
  const titles = new Set<string>();
  // Routes share most of their schemas (the error envelope, each model's record): each is walked once.
  const seen = new Set<TSchema>();
  for (const route of routes) {
    if (route.body) titled(route.body, named, titles, seen);
    for (const status in route.response) titled(route.response[Number(status)]!, named, titles, seen);
  }
  return named;
}

export function buildOpenApi(options: { title: string; version: string; routes: readonly RouteDoc[]; realtime: boolean }): Json {
  const named = componentNames(options.routes);
  const paths: Record<string, Json> = {};
  const tags = new Set<string>();
  for (const route of options.routes) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const parameters: Json[] = [
      ...[...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } })),
      ...Object.entries((route.query?.properties ?? {}) as Record<string, TSchema>).map(([name, schema]) => ({
        name, in: "query", required: false, schema: render(schema, named), ...(schema.type === "array" ? { style: "form", explode: true } : {}),
      })),
      ...Object.entries((route.headers?.properties ?? {}) as Record<string, TSchema>).map(([name, schema]) => ({ name, in: "header", required: false, description: "a repeat with the same key replays the first answer", schema: render(schema, named) })),
    ];
    const responses: Json = {};
    for (const [status, schema] of Object.entries(route.response)) {
      const code = Number(status);
      if (schema === ErrorEnvelope) responses[status] = { $ref: `#/components/responses/Error${status}` };
      else if (schema === NoContent) responses[status] = { description: "No content" };
      else responses[status] = { description: code === 201 ? "Created" : code === 202 ? "Accepted" : "OK", content: { [route.contentType ?? "application/json"]: { schema: render(schema, named) } } };
    }
    route.tags.forEach((tag) => tags.add(tag));
    paths[path] = {
      ...paths[path],
      [route.method.toLowerCase()]: {
        operationId: route.operationId,
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        tags: route.tags,
        ...(route.auth === "none" ? { security: [] } : route.auth === "optional" ? { security: [{}, { bearer: [] }] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: render(route.body, named) } } } } : {}),
        responses,
      },
    };
  }
  if (options.realtime) {
    tags.add("realtime");
    paths["/api/realtime"] = { get: { operationId: "realtime", tags: ["realtime"], summary: "WebSocket: send {\"type\":\"auth\",\"token\":…} (or connect with ?token=) within 5 s, then {\"type\":\"subscribe\",\"pattern\":\"job.>\"}; messages up to 16 KiB", security: [], responses: { "101": { description: "Switching protocols" }, "400": { $ref: "#/components/responses/Error400" } } } };
  }
  const used = new Set(options.routes.flatMap((r) => Object.entries(r.response).filter(([, s]) => s === ErrorEnvelope).map(([status]) => status)));
  if (options.realtime) used.add("400");
  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, description: "Backroom REST API. Errors: {\"error\": {code, message, details}}.", license: { name: "MIT", identifier: "MIT" } },
    servers: [{ url: "http://127.0.0.1:8080", description: "the till (serve's default address)" }],
    security: [{ bearer: [] }],
    tags: [...tags].map((name) => ({ name, description: TAG_TEXT[name] ?? `the ${name} model` })),
    paths,
    components: {
      schemas: Object.fromEntries([...named].map(([schema, name]) => [name, render(schema, named, true)])),
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: Object.fromEntries([...used].sort().map((status) => [`Error${status}`, jsonBody({ $ref: "#/components/schemas/Error" }, ERROR_TEXT[Number(status)] ?? "Error")])),
    },
  };
}

const TAG_TEXT: Record<string, string> = {
  job_statuses: "Job statuses (the seeds' StatusModel): read, cancel, retry",
  auth: "Who am I, and API tokens",
  schedules: "Durable schedules (admin)",
  operations: "Probes",
  admin: "The dashboard's API (admin)",
  actions: "The app's actions",
  realtime: "Events over a WebSocket",
};

/** A self-contained page listing the document's operations (no CDN: tills are offline). */
export const DOCS_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backroom API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}details{border:1px solid #ccc;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}code{background:#f3f3f3;padding:0 .25rem}.m{display:inline-block;min-width:4.5rem;font-weight:700}
pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:13px}</style></head>
<body><h1>Backroom API</h1><p>The OpenAPI document: <a href="/openapi.json">/openapi.json</a>. Send <code>Authorization: Bearer &lt;token&gt;</code>.</p><main id="ops">Loading…</main>
<script>
fetch("/openapi.json").then(r=>r.json()).then(doc=>{const main=document.getElementById("ops");main.textContent="";
for(const [path,item] of Object.entries(doc.paths))for(const [method,op] of Object.entries(item)){if(method==="parameters")continue;
const d=document.createElement("details");const s=document.createElement("summary");
s.innerHTML='<span class="m"></span><code></code> — ';s.querySelector(".m").textContent=method.toUpperCase();s.querySelector("code").textContent=path;s.append(op.summary||"");
const pre=document.createElement("pre");pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
d.append(s,pre);main.append(d);}});
</script></body></html>`;
