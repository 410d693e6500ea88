// The dashboard's entry: sign-in, the hash router, live refresh from the realtime WebSocket,
// and keyboard shortcuts (/ search, j/k move between rows, Enter opens, ? lists them).
import { api, ApiError, h, say, token } from "./dom.ts";
import { job } from "./job.ts";
import { jobs } from "./jobs.ts";
import { overview } from "./overview.ts";
import { queues } from "./queues.ts";
import { schedules } from "./schedules.ts";
import { webhooks } from "./webhooks.ts";

const main = document.getElementById("main")!;
let renders = 0; // render() calls started, so a late one knows it is stale
let searchAfterRender = false; // "/" pressed away from the job list: focus its search once drawn

function login(message?: string): void {
  stopLive();
  renders++; // a render still in flight must not draw over the form
  const input = h("input", { id: "token", name: "token", type: "password", required: true, autocomplete: "off", size: 40 });
  main.replaceChildren(h("h2", {}, "Sign in"),
    h("form", { class: "signin", onsubmit: async (e: Event) => { e.preventDefault(); sessionStorage.setItem("backroom-token", input.value.trim()); await start(); } },
      message ? h("p", { class: "error", role: "alert" }, message) : null,
      h("label", { for: "token" }, "Admin API token"), input, h("button", { class: "primary", type: "submit" }, "Sign in")));
  input.focus();
}

function view(path: string, params: URLSearchParams): Promise<Node[]> {
  if (path.startsWith("/jobs/")) return job(decodeURIComponent(path.slice(6)), render);
  if (path === "/jobs") return jobs(params, render);
  if (path === "/queues") return queues(render);
  if (path === "/schedules") return schedules(render);
  if (path === "/webhooks") return webhooks(render);
  return overview();
}

async function render(): Promise<void> {
  const hash = location.hash || "#/";
  const [path = "/", query] = hash.slice(1).split("?");
  const section = `/${path.split("/")[1] ?? ""}`;
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    if (a.getAttribute("href")!.slice(1) === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // Renders overlap (a live event's refresh, then a click): only the newest may draw, or a
  // slow list could land on top of the job page the user has since opened.
  const seq = ++renders;
  try {
    const nodes = await view(path, new URLSearchParams(query ?? ""));
    if (seq !== renders) return;
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>("[data-row]")?.dataset.row;
    main.replaceChildren(...nodes);
    main.dataset.view = hash; // which address the page shows (tests wait for it after a hash change)
    // A live refresh keeps the row the keyboard was on.
    if (focused) main.querySelector<HTMLElement>(`[data-row="${CSS.escape(focused)}"]`)?.focus();
    if (searchAfterRender) (searchAfterRender = false), document.getElementById("search")?.focus();
  } catch (error) {
    if (seq !== renders) return;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) login(error.message);
    else main.replaceChildren(h("p", { class: "error", role: "alert" }, (error as Error).message));
  }
}

/** A form field has focus: a live refresh now would throw away what is being typed. */
const typing = () => !!document.activeElement?.closest("input, select, textarea, form.edit");
let socket: WebSocket | null = null, pending: ReturnType<typeof setTimeout> | null = null, stale = false;
function refreshSoon(): void {
  if (pending) return;
  pending = setTimeout(() => {
    pending = null;
    if (typing()) stale = true;
    else void render();
  }, 250);
}
main.addEventListener("focusout", () => setTimeout(() => stale && !typing() && ((stale = false), render())));

// The token goes in the first message, never in the URL: URLs end up in proxy and server logs.
function startLive(): void {
  stopLive();
  const s = (socket = new WebSocket(`${location.protocol === "https:" ? "wss://" : "ws://"}${location.host}/api/realtime`));
  s.onopen = () => { s.send(JSON.stringify({ type: "auth", token: token() })); s.send(JSON.stringify({ type: "subscribe", pattern: "job.>" })); };
  s.onmessage = (m) => {
    const msg = JSON.parse(m.data as string) as { type: string };
    if (msg.type === "subscribed") say("Live");
    if (msg.type === "event") refreshSoon();
  };
  s.onclose = (e) => {
    if (socket !== s) return; // replaced or stopped
    if (e.code === 1008) return login("Signed out: the token was revoked or is no longer valid.");
    say("Offline — reconnecting…");
    setTimeout(() => socket === s && token() && startLive(), 2000);
  };
}
function stopLive(): void {
  const s = socket;
  socket = null;
  s?.close();
}

async function start(): Promise<void> {
  if (!token()) return login();
  try {
    const { data } = await api<{ data: { roles: string[] } }>("/api/me");
    if (!data.roles.includes("admin")) return login("This token is not an admin's.");
  } catch (error) {
    return login((error as Error).message);
  }
  startLive();
  await render();
}

/** j/k: the next/previous row of the first table of rows; Enter: open its link. */
function moveRow(step: 1 | -1): void {
  const rows = [...main.querySelectorAll<HTMLElement>("[data-row]")];
  if (!rows.length) return;
  const at = rows.indexOf(document.activeElement as HTMLElement);
  const next = rows[at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step))]!;
  next.focus();
  next.scrollIntoView({ block: "nearest" });
}

addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || !token()) return;
  const target = e.target as HTMLElement;
  if (target.closest("input, select, textarea, [contenteditable]")) {
    if (e.key === "Escape") target.blur();
    return;
  }
  if (e.key === "/") {
    e.preventDefault();
    const search = document.getElementById("search");
    if (search) search.focus();
    else (searchAfterRender = true), (location.hash = "#/jobs"); // the search box is on the job list
  } else if (e.key === "j" || e.key === "k") {
    e.preventDefault();
    moveRow(e.key === "j" ? 1 : -1);
  } else if (e.key === "Enter" && target.matches("[data-row]")) {
    target.querySelector<HTMLAnchorElement>("a[href]")?.click();
  } else if (e.key === "x" && target.matches("[data-row]")) {
    target.querySelector<HTMLInputElement>("input[type=checkbox]")?.click();
  } else if (e.key === "?") {
    say("Keys: / search · j/k next/previous row · Enter open · x select · Esc leave a field");
  }
});

document.getElementById("logout")!.addEventListener("click", () => { sessionStorage.removeItem("backroom-token"); login(); });
addEventListener("hashchange", () => token() && void render());
void start();
