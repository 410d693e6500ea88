// The operator's dashboard at /admin: one self-contained page (no CDN: a till is often
// offline), plain HTML/CSS/JS, embedded in the binary. It reads the REST API with the admin's
// token and refreshes the open view when the realtime WebSocket reports a job event. Served
// under a strict Content-Security-Policy (html-page.ts): no inline event-handler attributes,
// no style attributes, no remote resources; only this page's own script and style.
// Built for a 1024×768 till screen and the keyboard: real links and buttons, labelled
// controls, visible focus, an aria-live status line.

const STYLE = `
:root{--fg:#111;--muted:#4a4a4a;--line:#c8c8c8;--accent:#0b4fa0;--bad:#a4161a;--ok:#1b6e20;--bg:#fff;--soft:#f3f5f8}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.5rem 1rem;border-bottom:1px solid var(--line);background:var(--soft);flex-wrap:wrap}
header h1{font-size:1.1rem;margin:0}nav{display:flex;gap:.25rem}nav a{padding:.35rem .6rem;border-radius:4px;color:var(--accent);text-decoration:none;font-weight:600}
nav a[aria-current=page]{background:var(--accent);color:#fff}#live{margin-left:auto;color:var(--muted);font-size:.9rem}
main{padding:1rem;max-width:1000px}h2{font-size:1.15rem;margin:.2rem 0 .8rem}h3{font-size:1rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .45rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft)}td.num{text-align:right;font-variant-numeric:tabular-nums}
a{color:var(--accent)}button,select,input{font:inherit}button{padding:.3rem .7rem;border:1px solid var(--accent);background:#fff;color:var(--accent);border-radius:4px;cursor:pointer}
button.primary{background:var(--accent);color:#fff}button.danger{border-color:var(--bad);color:var(--bad)}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem .8rem;align-items:end;margin-bottom:.8rem}form.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
input,select{padding:.25rem .35rem;border:1px solid #767676;border-radius:3px}
.status-succeeded{color:var(--ok);font-weight:600}.status-dead,.status-failed{color:var(--bad);font-weight:600}
dl{display:grid;grid-template-columns:11rem 1fr;gap:.25rem .8rem}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
pre{background:var(--soft);padding:.6rem;overflow:auto;max-height:16rem;font-size:.85rem}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin-bottom:1rem}.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}.error{color:var(--bad);font-weight:600}.row{display:flex;gap:.5rem;align-items:center;margin:.6rem 0}
svg{max-width:100%;height:auto;border:1px solid var(--line)}`;

const SCRIPT = `
const main = document.getElementById("main"), live = document.getElementById("live");
const token = () => sessionStorage.getItem("backroom-token");
let renders = 0; // render() calls started, so a late one knows it is stale
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) { if (v === false || v == null) continue; if (k.startsWith("on")) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v === true ? "" : v); }
  for (const c of children.flat()) if (c != null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { authorization: "Bearer " + token(), ...(options.body ? { "content-type": "application/json" } : {}) } });
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? res.statusText);
  return body;
}
const when = (iso) => iso ? new Date(iso).toLocaleString() : "—";
const statusCell = (s) => h("span", { class: "status-" + s }, s);
function say(text) { live.textContent = text; }

function login(message) {
  stopLive();
  renders++; // a render still in flight must not draw over the form
  main.replaceChildren(h("h2", {}, "Sign in"),
    h("form", { onsubmit: async (e) => { e.preventDefault(); sessionStorage.setItem("backroom-token", e.target.token.value.trim()); await start(); } },
      message ? h("p", { class: "error", role: "alert" }, message) : null,
      h("div", { class: "row" }, h("label", { for: "token" }, "Admin API token"), h("input", { id: "token", name: "token", type: "password", required: true, autocomplete: "off", size: 48 }), h("button", { class: "primary", type: "submit" }, "Sign in"))));
  main.querySelector("input").focus();
}

async function overview() {
  const { data } = await api("/api/admin/overview");
  const byState = {}; for (const c of data.counts) byState[c.status] = (byState[c.status] ?? 0) + c.n;
  const hour = data.activity.reduce((a, m) => ({ ok: a.ok + m.succeeded, bad: a.bad + m.failed + m.dead }), { ok: 0, bad: 0 });
  const max = Math.max(1, ...data.activity.map((m) => m.succeeded + m.failed + m.dead));
  const bars = data.activity.map((m, i) => { const total = m.succeeded + m.failed + m.dead, y = 100 - (total / max) * 90, fy = 100 - ((m.failed + m.dead) / max) * 90;
    return '<rect x="' + i * 10 + '" y="' + y + '" width="8" height="' + (100 - y) + '" fill="#0b4fa0"><title>' + new Date(m.minute).toLocaleTimeString() + ": " + total + " finished, " + (m.failed + m.dead) + " failed</title></rect>" + '<rect x="' + i * 10 + '" y="' + fy + '" width="8" height="' + (100 - fy) + '" fill="#a4161a"/>'; }).join("");
  const chart = h("figure", {}, h("figcaption", {}, "Jobs finished per minute, last hour (red: failed or dead): " + hour.ok + " succeeded, " + hour.bad + " failed — failure rate " + (hour.ok + hour.bad ? Math.round((100 * hour.bad) / (hour.ok + hour.bad)) : 0) + "%"));
  chart.insertAdjacentHTML("beforeend", '<svg viewBox="0 0 600 100" width="600" height="100" role="img" aria-label="Throughput chart">' + bars + "</svg>");
  return [h("h2", {}, "Overview"),
    h("div", { class: "cards" }, ...["enqueued", "running", "failed", "dead", "cancelled"].map((s) => h("div", { class: "card" }, h("b", {}, byState[s] ?? 0), h("a", { href: "#/jobs?status=" + s }, s)))),
    h("p", {}, "Oldest waiting job due since: ", h("strong", {}, when(data.oldest_waiting_since))), chart,
    h("h3", {}, "Unfinished, dead and cancelled jobs by type"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Jobs"))),
      h("tbody", {}, data.counts.length ? data.counts.map((c) => h("tr", {}, h("td", {}, h("a", { href: "#/jobs?type=" + encodeURIComponent(c.type) + "&status=" + c.status }, c.type)), h("td", {}, statusCell(c.status)), h("td", { class: "num" }, c.n))) : h("tr", {}, h("td", { colspan: 3 }, "Nothing waiting, running or dead."))))];
}

async function jobs(params) {
  const q = new URLSearchParams({ sort: "-id", limit: "25", page: params.get("page") ?? "1" });
  for (const k of ["status", "type", "group_key", "actor_id"]) if (params.get(k)) q.set(k, params.get(k));
  if (params.get("from")) q.append("filter", "created_at:gte:" + new Date(params.get("from")).toISOString());
  if (params.get("to")) q.append("filter", "created_at:lte:" + new Date(params.get("to")).toISOString());
  const { data, meta } = await api("/api/job_statuses?" + q);
  const field = (name, label, input) => h("label", {}, label, input ?? h("input", { name, value: params.get(name) ?? "" }));
  const filters = h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); const f = new URLSearchParams(); for (const [k, v] of new FormData(e.target)) if (v) f.set(k, v); location.hash = "#/jobs?" + f; } },
    field("status", "State", h("select", { name: "status" }, ["", "enqueued", "running", "succeeded", "failed", "dead", "cancelled"].map((s) => h("option", { value: s, selected: params.get("status") === s }, s || "any")))),
    field("type", "Type"), field("group_key", "Group"), field("actor_id", "Actor"),
    field("from", "Created from", h("input", { type: "datetime-local", name: "from", value: params.get("from") ?? "" })),
    field("to", "to", h("input", { type: "datetime-local", name: "to", value: params.get("to") ?? "" })),
    h("button", { type: "submit", class: "primary" }, "Filter"));
  const bulk = (action, label) => h("button", { class: "danger", type: "button", onclick: async () => {
    const scope = params.get("type") ? " of type " + params.get("type") : "";
    if (!confirm(label + scope + "? This acts on up to 500 jobs.")) return;
    const { data } = await api("/api/admin/jobs/bulk", { method: "POST", body: JSON.stringify({ action, ...(params.get("type") ? { type: params.get("type") } : {}) }) });
    say(data.affected + " job(s) " + (action === "retry" ? "retried" : "cancelled")); render(); } }, label);
  const page = meta.page, pages = Math.max(1, meta.pages);
  const go = (n) => { params.set("page", n); location.hash = "#/jobs?" + params; };
  return [h("h2", {}, "Jobs"), filters,
    h("div", { class: "row" }, bulk("retry", "Retry all dead jobs"), bulk("cancel", "Cancel all queued jobs")),
    h("table", {}, h("caption", { class: "sr" }, meta.total + " job(s)"),
      h("thead", {}, h("tr", {}, ...["Job", "Type", "State", "Attempts", "Group", "Actor", "Created"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, data.length ? data.map((j) => h("tr", {}, h("td", {}, h("a", { href: "#/jobs/" + j.id }, j.id)), h("td", {}, j.type), h("td", {}, statusCell(j.status)), h("td", { class: "num" }, j.attempts + "/" + j.max_retry), h("td", {}, j.group_key ?? ""), h("td", {}, j.actor_id ?? ""), h("td", {}, when(j.created_at)))) : h("tr", {}, h("td", { colspan: 7 }, "No jobs match.")))),
    h("div", { class: "row" }, h("button", { disabled: page <= 1, onclick: () => go(page - 1) }, "Previous"), h("span", {}, "Page " + page + " of " + pages + (meta.total_is_lower_bound ? "+" : "") + " (" + meta.total + (meta.total_is_lower_bound ? "+" : "") + " jobs)"), h("button", { disabled: page >= pages, onclick: () => go(page + 1) }, "Next"))];
}

async function job(id) {
  const { data: j } = await api("/api/admin/jobs/" + encodeURIComponent(id));
  const act = (path, label, done) => h("button", { class: "primary", onclick: async () => { await api("/api/job_statuses/" + j.id + "/" + path, { method: "POST" }); say("Job " + done); render(); } }, label);
  const rows = [["ID", j.id], ["Type", j.type], ["State", statusCell(j.status)], ["Attempts", j.attempts + " of " + j.maxRetry], ["Priority", j.priority], ["Group", j.groupKey ?? "—"], ["Actor", j.actorId ?? "—"], ["Trace", j.traceId ?? "—"],
    ["Created", when(j.createdAt && new Date(j.createdAt).toISOString())], ["Runs at", when(new Date(j.runAt).toISOString())], ["Started", when(j.startedAt && new Date(j.startedAt).toISOString())], ["Completed", when(j.completedAt && new Date(j.completedAt).toISOString())],
    ["Run time", j.startedAt && j.completedAt ? (j.completedAt - j.startedAt) + " ms" : "—"], ["Last error", j.error ?? "—"], ["Result URL", j.resultUrl ?? "—"]];
  return [h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")), h("h2", {}, "Job " + j.id),
    h("div", { class: "row" }, j.status === "dead" ? act("retry", "Retry", "retried") : null, ["enqueued", "failed"].includes(j.status) ? act("cancel", "Cancel", "cancelled") : null),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h3", {}, "Payload"), h("pre", {}, JSON.stringify(j.payload, null, 2)), h("h3", {}, "Output"), h("pre", {}, JSON.stringify(j.output, null, 2))];
}

async function schedules() {
  const { data } = await api("/api/schedules");
  const act = (s, path, label) => h("button", { onclick: async () => { await api("/api/schedules/" + encodeURIComponent(s.name) + "/" + path, { method: "POST" }); say(label + ": " + s.name); render(); } }, label);
  return [h("h2", {}, "Schedules"), h("table", {}, h("thead", {}, h("tr", {}, ...["Name", "Schedule", "Job type", "Next fire", "Last fire", "State", "Actions"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, data.map((s) => h("tr", {}, h("td", {}, s.name), h("td", {}, h("code", {}, s.schedule), s.timezone ? " (" + s.timezone + ")" : ""), h("td", {}, s.type), h("td", {}, when(s.next_fire_at)), h("td", {}, when(s.last_fired_at)), h("td", {}, s.paused ? "paused" : "active"),
      h("td", {}, s.paused ? act(s, "resume", "Resume") : act(s, "pause", "Pause"), " ", act(s, "run", "Run now"))))))];
}

async function webhooks() {
  const [subs, recent, failures] = await Promise.all([api("/api/webhook_subscriptions?limit=100"), api("/api/job_statuses?type=webhook_delivery&sort=-id&limit=20"), api("/api/job_statuses?type=webhook_delivery&filter=status:in:failed,dead&sort=-id&limit=20")]);
  const deliveries = (list) => h("table", {}, h("thead", {}, h("tr", {}, ...["Delivery", "State", "Attempts", "Updated"].map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, list.data.length ? list.data.map((d) => h("tr", {}, h("td", {}, h("a", { href: "#/jobs/" + d.id }, d.id)), h("td", {}, statusCell(d.status)), h("td", { class: "num" }, d.attempts), h("td", {}, when(d.updated_at)))) : h("tr", {}, h("td", { colspan: 4 }, "None."))));
  return [h("h2", {}, "Webhooks"),
    h("table", {}, h("thead", {}, h("tr", {}, ...["URL", "Pattern", "Format", "Active"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, subs.data.length ? subs.data.map((s) => h("tr", {}, h("td", {}, s.url), h("td", {}, h("code", {}, s.pattern)), h("td", {}, s.format === "standard" ? "standard" : "standard + maniflex"), h("td", {}, s.active === false ? "no" : "yes"))) : h("tr", {}, h("td", { colspan: 4 }, "No subscriptions (code-configured ones are not listed).")))),
    h("h3", {}, "Recent deliveries"), deliveries(recent), h("h3", {}, "Failing and dead deliveries"), deliveries(failures)];
}

async function render() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query ?? "");
  for (const a of document.querySelectorAll("nav a")) a.toggleAttribute("aria-current", a.getAttribute("href").slice(1).split("?")[0] === "/" + (path.split("/")[1] ?? "") || (a.getAttribute("href") === "#/" && path === "/"));
  for (const a of document.querySelectorAll("nav a[aria-current]")) a.setAttribute("aria-current", "page");
  // Renders overlap (a live event's refresh, then a click): only the newest may draw, or a
  // slow list could land on top of the job page the user has since opened.
  const seq = ++renders;
  try {
    const view = path.startsWith("/jobs/") ? await job(path.slice(6)) : path === "/jobs" ? await jobs(params)
      : path === "/schedules" ? await schedules() : path === "/webhooks" ? await webhooks() : await overview();
    if (seq === renders) main.replaceChildren(...view);
  } catch (error) {
    if (seq !== renders) return;
    if (/token|authori|role/i.test(error.message)) login(error.message);
    else main.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
  }
}

let socket = null, pending = null;
// The token goes in the first message, never in the URL: URLs end up in proxy and server logs.
function startLive() {
  stopLive();
  const s = socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/realtime");
  s.onopen = () => { s.send(JSON.stringify({ type: "auth", token: token() })); s.send(JSON.stringify({ type: "subscribe", pattern: "job.>" })); };
  s.onmessage = (m) => { const msg = JSON.parse(m.data); if (msg.type === "subscribed") say("Live"); if (msg.type === "event" && !pending) pending = setTimeout(() => { pending = null; render(); }, 250); };
  s.onclose = (e) => {
    if (socket !== s) return; // replaced or stopped
    if (e.code === 1008) return login("Signed out: the token was revoked or is no longer valid.");
    say("Offline — reconnecting…"); setTimeout(() => socket === s && token() && startLive(), 2000);
  };
}
function stopLive() { const s = socket; socket = null; s?.close(); }

async function start() {
  if (!token()) return login();
  try { const { data } = await api("/api/me"); if (!data.roles.includes("admin")) return login("This token is not an admin's."); }
  catch (error) { return login(error.message); }
  startLive();
  await render();
}
document.getElementById("logout").addEventListener("click", () => { sessionStorage.removeItem("backroom-token"); login(); });
addEventListener("hashchange", () => token() && render());
start();`;

export const ADMIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Backroom admin</title><style>${STYLE}.sr{position:absolute;left:-9999px}</style></head>
<body><header><h1>Backroom</h1><nav aria-label="Sections"><a href="#/">Overview</a><a href="#/jobs">Jobs</a><a href="#/schedules">Schedules</a><a href="#/webhooks">Webhooks</a></nav>
<span id="live" role="status" aria-live="polite"></span><button id="logout" type="button">Sign out</button></header>
<main id="main" tabindex="-1"></main><script type="module">${SCRIPT}</script></body></html>`;
