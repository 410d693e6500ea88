// The OpenAPI 3.1 document of an app, built from the same TypeBox schemas that validate the
// requests (models, actions) and from the fixed routes' shapes, served at /openapi.json with a
// browsable page at /docs (self-contained: a till has no CDN).
import type { TSchema } from "@sinclair/typebox";
import { STATUS_COLUMNS } from "../jobs/status-columns.ts";
import type { Column } from "../db/list-query.ts";
import type { Action } from "../models/action.ts";
import type { Model } from "../models/model.ts";

type Json = Record<string, unknown>;

const plain = (schema: TSchema | Json): Json => JSON.parse(JSON.stringify(schema));
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Json, description = "OK") => ({ description, content: { "application/json": { schema } } });
const data = (schema: Json) => ({ type: "object", required: ["data"], properties: { data: schema } });
const list = (item: Json) => ({ type: "object", required: ["data", "meta"], properties: { data: { type: "array", items: item }, meta: ref("ListMeta") } });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { $ref: "#/components/responses/Error" }]));
const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };

function columnSchema(c: Column): Json {
  const type = { text: "string", integer: "integer", real: "number", boolean: "boolean", time: "string", json: {} }[c.type];
  return typeof type === "string" ? { type: [type, "null"], ...(c.type === "time" ? { format: "date-time" } : {}) } : {};
}

function listParams(columns: readonly Column[]) {
  return [
    { name: "page", in: "query", description: "page mode (meta: total, page, limit, pages); not with cursor", schema: { type: "integer", minimum: 1, default: 1 } },
    { name: "cursor", in: "query", description: "keyset mode (meta: limit, next_cursor, has_more): empty for the first page, then meta.next_cursor as answered, with the same sort; rows inserted meanwhile never shift a page. An altered cursor, or one sent with another sort or with page, is 400 INVALID_QUERY", schema: { type: "string" } },
    { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
    { name: "sort", in: "query", description: "e.g. -created_at,title or created_at:desc", schema: { type: "string" } },
    { name: "filter", in: "query", description: "field:op:value (ops eq ne gt gte lt lte in like); repeat to AND", schema: { type: "array", items: { type: "string" } }, style: "form", explode: true },
    ...columns.filter((c) => c.filterable).map((c) => ({ name: c.name, in: "query", description: `equals (shorthand for filter=${c.name}:eq:…)`, schema: c.values ? { type: "string", enum: [...c.values] } : { type: "string" } })),
  ];
}

export function buildOpenApi(options: { title: string; version: string; models: readonly Model[]; actions: readonly Action<never>[]; schedules: boolean; realtime: boolean }): Json {
  const paths: Json = {};
  const schemas: Json = {
    Error: { type: "object", required: ["error"], properties: { error: { type: "object", required: ["code", "message", "details"], properties: { code: { type: "string" }, message: { type: "string" }, details: { type: "array", items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } } } } } } },
    ListMeta: {
      type: "object",
      description: "?page= mode answers total, page, limit, pages; ?cursor= mode answers limit, next_cursor, has_more",
      properties: {
        total: { type: "integer" }, page: { type: "integer" }, limit: { type: "integer" }, pages: { type: "integer" },
        next_cursor: { type: ["string", "null"], description: "the position after this page's last row (the cursor sent, on an empty page): send it back to go on, or later to poll for rows added since" },
        has_more: { type: "boolean", description: "whether rows followed this page when it was read" },
      },
    },
    JobStatus: { type: "object", properties: Object.fromEntries([...STATUS_COLUMNS.map((c) => [c.name, columnSchema(c)]), ["status", { enum: ["enqueued", "running", "succeeded", "failed", "dead", "cancelled"] }]]) },
  };

  for (const model of options.models) {
    const record = { type: "object", properties: { id: { type: "string" }, ...Object.fromEntries(model.columns.filter((c) => c.name !== "id").map((c) =>
      model.writeOnly.includes(c.name)
        ? [`${c.name}_hint`, { type: ["string", "null"], description: `write-only: the last 4 characters of ${c.name}` }]
        : [c.name, c.type === "json" ? plain((model.definition.fields.properties as Record<string, TSchema>)[c.name]!) : columnSchema(c)])) } };
    schemas[model.name] = record;
    const input = plain(model.validateCreate.Schema());
    const base: Json = {};
    const item: Json = { parameters: [idParam] };
    const tag = [model.table];
    if (model.access.list !== false) base.get = { tags: tag, summary: `List ${model.table}`, parameters: listParams(model.columns), responses: { "200": json(list(ref(model.name))), ...errors(400, 401, 403) } };
    if (model.access.create !== false) base.post = { tags: tag, summary: `Create a ${model.name}`, requestBody: { required: true, content: { "application/json": { schema: input } } }, responses: { "201": json(data(ref(model.name)), "Created"), ...errors(400, 401, 403, 409, 413, 415, 422) } };
    if (model.access.get !== false) item.get = { tags: tag, summary: `Get a ${model.name}`, responses: { "200": json(data(ref(model.name))), ...errors(401, 403, 404) } };
    if (model.access.update !== false) {
      item.put = { tags: tag, summary: `Replace a ${model.name}`, requestBody: { required: true, content: { "application/json": { schema: input } } }, responses: { "200": json(data(ref(model.name))), ...errors(400, 401, 403, 404, 409, 422) } };
      item.patch = { tags: tag, summary: `Change a ${model.name}`, requestBody: { required: true, content: { "application/json": { schema: plain(model.validateUpdate.Schema()) } } }, responses: { "200": json(data(ref(model.name))), ...errors(400, 401, 403, 404, 409, 422) } };
    }
    if (model.access.delete !== false) item.delete = { tags: tag, summary: `Delete a ${model.name}`, responses: { "204": { description: "Deleted" }, ...errors(401, 403, 404) } };
    if (Object.keys(base).length) paths[`/api/${model.table}`] = base;
    if (Object.keys(item).length > 1) paths[`/api/${model.table}/{id}`] = item;
  }

  for (const action of options.actions) {
    const path = `/api${action.path}`.replace(/:(\w+)/g, "{$1}");
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: "path", required: true, schema: { type: "string" } }));
    paths[path] = {
      ...(paths[path] as Json | undefined),
      [action.method.toLowerCase()]: {
        tags: ["actions"], summary: `${action.method} ${path}`,
        ...(action.body ? { requestBody: { required: true, content: { "application/json": { schema: plain(action.body) } } } } : {}),
        parameters: [...params, { name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 255 } }],
        responses: { "200": json(data({})), "202": json(data({}), "Accepted"), ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    };
  }

  paths["/api/job_statuses"] = { get: { tags: ["job_statuses"], summary: "List job statuses (your own; all for admins)", parameters: listParams(STATUS_COLUMNS), responses: { "200": json(list(ref("JobStatus"))), ...errors(400, 401) } } };
  paths["/api/job_statuses/{id}"] = { parameters: [idParam], get: { tags: ["job_statuses"], summary: "Get a job status", responses: { "200": json(data(ref("JobStatus"))), ...errors(401, 404) } } };
  paths["/api/job_statuses/{id}/cancel"] = { parameters: [idParam], post: { tags: ["job_statuses"], summary: "Cancel a job that has not started", responses: { "200": json(data(ref("JobStatus"))), ...errors(401, 404, 409) } } };
  paths["/api/job_statuses/{id}/retry"] = { parameters: [idParam], post: { tags: ["job_statuses"], summary: "Retry a dead job (admin)", responses: { "200": json(data(ref("JobStatus"))), ...errors(401, 403, 404, 409) } } };
  paths["/api/me"] = { get: { tags: ["auth"], summary: "Who the token belongs to", responses: { "200": json(data({ type: "object" })), ...errors(401) } } };
  paths["/api/users/{id}/tokens"] = { parameters: [idParam], post: { tags: ["auth"], summary: "Issue a token (admin); shown once", responses: { "201": json(data({ type: "object", properties: { id: { type: "string" }, token: { type: "string" } } }), "Created"), ...errors(401, 403, 404) } } };
  paths["/api/tokens/{id}"] = { parameters: [idParam], delete: { tags: ["auth"], summary: "Revoke a token", responses: { "204": { description: "Revoked" }, ...errors(401, 404) } } };
  if (options.schedules) {
    const nameParam = { name: "name", in: "path", required: true, schema: { type: "string" } };
    paths["/api/schedules"] = { get: { tags: ["schedules"], summary: "List schedules (admin)", responses: { "200": json(list({ type: "object" })), ...errors(401, 403) } }, post: { tags: ["schedules"], summary: "Create a schedule (admin)", requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["name", "schedule", "type"], properties: { name: { type: "string" }, schedule: { type: "string" }, type: { type: "string" }, payload: {}, timezone: { type: ["string", "null"] }, catch_up: { enum: ["skip", "all", "none"] } } } } } }, responses: { "201": json(data({ type: "object" }), "Created"), ...errors(400, 401, 403, 409, 422) } } };
    paths["/api/schedules/{name}"] = { parameters: [nameParam], get: { tags: ["schedules"], summary: "Get a schedule", responses: { "200": json(data({ type: "object" })), ...errors(401, 403, 404) } }, patch: { tags: ["schedules"], summary: "Change a schedule", responses: { "200": json(data({ type: "object" })), ...errors(400, 401, 403, 404, 422) } }, delete: { tags: ["schedules"], summary: "Delete a schedule", responses: { "204": { description: "Deleted" }, ...errors(401, 403, 404) } } };
    for (const verb of ["pause", "resume", "run"]) paths[`/api/schedules/{name}/${verb}`] = { parameters: [nameParam], post: { tags: ["schedules"], summary: `${verb} a schedule`, responses: { [verb === "run" ? "202" : "200"]: json(data({ type: "object" })), ...errors(401, 403, 404) } } };
  }
  paths["/healthz"] = { get: { tags: ["operations"], summary: "Liveness", security: [], responses: { "200": json(data({ type: "object" })) } } };
  paths["/readyz"] = { get: { tags: ["operations"], summary: "Readiness", security: [], responses: { "200": json(data({ type: "object" })), "503": { $ref: "#/components/responses/Error" } } } };
  if (options.realtime) paths["/api/realtime"] = { get: { tags: ["realtime"], summary: "WebSocket: send {\"type\":\"auth\",\"token\":…} (or connect with ?token=) within 5 s, then {\"type\":\"subscribe\",\"pattern\":\"job.>\"}; messages up to 16 KiB", security: [], responses: { "101": { description: "Switching protocols" } } } };

  return {
    openapi: "3.1.0",
    info: { title: options.title, version: options.version, description: "Backroom REST API. Errors: {\"error\": {code, message, details}}." },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      responses: { Error: { description: "Error envelope", content: { "application/json": { schema: ref("Error") } } } },
    },
  };
}

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
