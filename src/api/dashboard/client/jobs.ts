// The job list: search by id prefix and by part of the type, filters, 25 a page, and row
// selection for bulk retry / cancel / delete (at most 500, after a confirmation). The id
// search is a range on the primary key (id >= P AND id < P + "~": ULIDs are Crockford base32,
// all below "~"), so it reads the index, not the table; the type search is a LIKE "%…%" with
// the user's own % removed (the API caps patterns at 400 characters; the field at 100).
import { api, ApiError, field, h, post, say, stateBadge, table, when } from "./dom.ts";
import { actorLabel, loadActors } from "./actors.ts";
import type { ListMeta, Queue, StatusRow } from "./types.ts";
import { STATES } from "./types.ts";

const BULK_LIMIT = 500;
/** The selection survives live refreshes and paging; a new search starts a new one. */
let selection = { search: "", ids: new Set<string>() };

/** The API query for the dashboard's own search parameters. */
export function listQuery(params: URLSearchParams): URLSearchParams {
  const q = new URLSearchParams({ sort: "-id", limit: "25", page: params.get("page") ?? "1" });
  for (const k of ["status", "queue", "group_key", "actor_id"]) if (params.get(k)) q.set(k, params.get(k)!);
  const id = params.get("id")?.trim().toUpperCase();
  if (id) q.append("filter", `id:gte:${id}`), q.append("filter", `id:lt:${id}~`);
  const type = params.get("type")?.replace(/%/g, "").trim();
  if (type) q.append("filter", `type:like:%${type}%`);
  if (params.get("from")) q.append("filter", `created_at:gte:${new Date(params.get("from")!).toISOString()}`);
  if (params.get("to")) q.append("filter", `created_at:lte:${new Date(params.get("to")!).toISOString()}`);
  return q;
}

type Bulk = "retry" | "cancel" | "delete";
const PAST: Record<Bulk, string> = { retry: "retried", cancel: "cancelled", delete: "deleted" };

async function bulk(action: Bulk, ids: string[], rerender: () => void): Promise<void> {
  if (!ids.length) return;
  const what: Record<Bulk, string> = { retry: "Retry (dead jobs only)", cancel: "Cancel (jobs not started only)", delete: "Delete for good (finished jobs only)" };
  if (!confirm(`${what[action]}: ${ids.length} selected job(s)?`)) return;
  const { data } = await post<{ data: { affected: number; results: { id: string; result: string }[] } }>("/api/admin/jobs/bulk", { action, ids });
  const skipped = new Map<string, number>();
  for (const r of data.results) if (r.result !== PAST[action]) skipped.set(r.result, (skipped.get(r.result) ?? 0) + 1);
  say(`${data.affected} job(s) ${PAST[action]}` + [...skipped].map(([why, n]) => `, ${n} ${why.replace("_", " ")}`).join(""));
  selection.ids.clear();
  rerender();
}

export async function jobs(params: URLSearchParams, rerender: () => void): Promise<Node[]> {
  const search = [...params].filter(([k]) => k !== "page").map(([k, v]) => `${k}=${v}`).join("&");
  if (selection.search !== search) selection = { search, ids: new Set() };
  const [{ data, meta }, queues] = await Promise.all([
    api<{ data: StatusRow[]; meta: ListMeta }>(`/api/job_statuses?${listQuery(params)}`),
    api<{ data: Queue[] }>("/api/queues").then((r) => r.data, () => null),
  ]);
  const actors = await loadActors(data.map((j) => j.actor_id));
  const input = (name: string, attrs: Record<string, string | number> = {}) => h("input", { name, value: params.get(name) ?? "", ...attrs });
  const form = h("form", { class: "filters", role: "search", onsubmit: (e: Event) => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const [k, v] of new FormData(e.target as HTMLFormElement)) if (typeof v === "string" && v.trim()) f.set(k, v.trim());
    location.hash = `#/jobs?${f}`;
  } },
    field("Job id (prefix)", input("id", { id: "search", maxlength: 26, spellcheck: "false", autocomplete: "off", placeholder: "01J…  (press /)", class: "mono" })),
    field("Type contains", input("type", { maxlength: 100, autocomplete: "off" })),
    field("State", h("select", { name: "status" }, ["", ...STATES].map((s) => h("option", { value: s, selected: params.get("status") === s }, s || "any")))),
    queues ? field("Queue", h("select", { name: "queue" }, ["", ...queues.map((q) => q.name)].map((s) => h("option", { value: s, selected: params.get("queue") === s }, s || "any")))) : null,
    field("Actor id", input("actor_id", { size: 12 })),
    field("Group", input("group_key", { size: 10 })),
    field("Created from", input("from", { type: "datetime-local" })),
    field("to", input("to", { type: "datetime-local" })),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Search"), h("a", { href: "#/jobs", class: "button" }, "Clear")));

  const onPage = data.map((j) => j.id);
  const count = h("span", { class: "count", "aria-live": "polite" });
  const buttons = (["retry", "cancel", "delete"] as Bulk[]).map((action) => h("button", { type: "button", class: action === "retry" ? "primary" : "danger", onclick: () => bulk(action, [...selection.ids], rerender).catch((e: Error) => say(e.message)) },
    `${action[0]!.toUpperCase()}${action.slice(1)} selected`));
  const all = h("input", { type: "checkbox", "aria-label": "Select every job on this page" }) as HTMLInputElement;
  const boxes: HTMLInputElement[] = [];
  const sync = () => {
    const n = selection.ids.size;
    count.textContent = n ? `${n} selected` : "None selected";
    for (const b of buttons) b.toggleAttribute("disabled", n === 0);
    all.checked = onPage.length > 0 && onPage.every((id) => selection.ids.has(id));
    all.indeterminate = !all.checked && onPage.some((id) => selection.ids.has(id));
  };
  all.addEventListener("change", () => {
    for (const id of onPage) {
      if (!all.checked) selection.ids.delete(id);
      else if (selection.ids.size < BULK_LIMIT) selection.ids.add(id);
    }
    for (const b of boxes) b.checked = selection.ids.has(b.value);
    sync();
  });
  const rows = data.map((j) => {
    const box = h("input", { type: "checkbox", value: j.id, "aria-label": `Select job ${j.id}`, checked: selection.ids.has(j.id) }) as HTMLInputElement;
    box.addEventListener("change", () => {
      if (box.checked && selection.ids.size >= BULK_LIMIT) {
        box.checked = false;
        return say(`At most ${BULK_LIMIT} jobs at once`);
      }
      if (box.checked) selection.ids.add(j.id);
      else selection.ids.delete(j.id);
      sync();
    });
    boxes.push(box);
    return h("tr", { "data-row": j.id, tabindex: -1 },
      h("td", { class: "pick", "data-label": "Select" }, box),
      h("td", { class: "id" }, h("a", { href: `#/jobs/${j.id}`, class: "mono" }, j.id)),
      h("td", { class: "type" }, j.type),
      h("td", { "data-label": "Queue" }, j.queue ?? "default"),
      h("td", {}, stateBadge(j.status)),
      h("td", { class: "num" }, `${j.attempts}/${j.max_retry}`),
      h("td", { class: "actor" }, actorLabel(actors, j.actor_id)),
      h("td", { class: "time" }, when(j.created_at)));
  });
  sync();

  const bulkByFilter = (action: "retry" | "cancel", label: string) => h("button", { type: "button", class: "link", onclick: async () => {
    const type = params.get("type");
    if (!confirm(`${label}${type ? ` of type exactly "${type}"` : ""}? This acts on up to ${BULK_LIMIT} jobs.`)) return;
    try {
      const { data: r } = await post<{ data: { affected: number } }>("/api/admin/jobs/bulk", { action, ...(type ? { type } : {}) });
      say(`${r.affected} job(s) ${PAST[action]}`);
      rerender();
    } catch (error) {
      say((error as ApiError).message);
    }
  } }, label);

  const pages = Math.max(1, meta.pages), more = meta.total_is_lower_bound ? "+" : "";
  const go = (n: number) => { params.set("page", String(n)); location.hash = `#/jobs?${params}`; };
  return [h("h2", {}, "Jobs"), form,
    h("div", { class: "bulkbar", role: "group", "aria-label": "Selected jobs" }, count, buttons,
      h("span", { class: "spacer" }), bulkByFilter("retry", "Retry all dead jobs"), bulkByFilter("cancel", "Cancel all waiting jobs")),
    withHeaderBox(table("jobs", `${meta.total}${more} job(s)`, ["", "Job", "Type", "Queue", "State", "Tries", "Actor", "Created"], rows, "No jobs match."), all),
    h("div", { class: "pager" },
      h("button", { type: "button", disabled: meta.page <= 1, onclick: () => go(meta.page - 1) }, "Previous"),
      h("span", {}, `Page ${meta.page} of ${pages}${more} (${meta.total}${more} jobs)`),
      h("button", { type: "button", disabled: meta.page >= pages, onclick: () => go(meta.page + 1) }, "Next"))];
}

/** The "select all" box goes in the first header cell. */
function withHeaderBox(t: HTMLTableElement, box: HTMLInputElement): HTMLTableElement {
  t.tHead?.rows[0]?.cells[0]?.append(box);
  return t;
}
