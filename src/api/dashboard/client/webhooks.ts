// Webhooks: the subscriptions (enable / disable, edit; the secret is write-only: the form
// never shows it, and a blank field keeps it), and the newest and the failing deliveries with
// the event, the receiver's last HTTP status and error, and redeliver.
import { api, field, h, post, say, stateBadge, table, when } from "./dom.ts";
import type { Delivery, Subscription } from "./types.ts";

const enabled = (s: Subscription) => s.active !== false; // left out means active

function editor(s: Subscription, rerender: () => void): HTMLElement {
  const form = h("form", { class: "filters edit", "aria-label": `Edit subscription ${s.url}`, onsubmit: async (e: Event) => {
    e.preventDefault();
    const f = new FormData(form);
    const body: Record<string, unknown> = { url: f.get("url"), pattern: f.get("pattern"), format: f.get("format") };
    const secret = String(f.get("secret") ?? "");
    if (secret) body.secret = secret;
    try {
      await api(`/api/webhook_subscriptions/${s.id}`, { method: "PATCH", body: JSON.stringify(body) });
      say("Subscription saved");
      rerender();
    } catch (error) {
      say((error as Error).message);
    }
  } },
    field("URL", h("input", { name: "url", value: s.url, required: true, type: "url", size: 40 })),
    field("Pattern", h("input", { name: "pattern", value: s.pattern, required: true, size: 14 })),
    field("Format", h("select", { name: "format" }, h("option", { value: "maniflex", selected: s.format !== "standard" }, "standard + maniflex"), h("option", { value: "standard", selected: s.format === "standard" }, "standard"))),
    field("New secret (blank: keep)", h("input", { name: "secret", type: "password", autocomplete: "new-password", minlength: 16, size: 20 })),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "primary" }, "Save"), h("button", { type: "button", onclick: () => form.closest("tr")?.remove() }, "Close")));
  return form;
}

export async function webhooks(rerender: () => void): Promise<Node[]> {
  const [subs, recent, failing] = await Promise.all([
    api<{ data: Subscription[] }>("/api/webhook_subscriptions?limit=100"),
    api<{ data: Delivery[] }>("/api/admin/webhook_deliveries?limit=20"),
    api<{ data: Delivery[] }>("/api/admin/webhook_deliveries?limit=20&status=failed,dead"),
  ]);
  const toggle = (s: Subscription) => h("button", { type: "button", onclick: async () => {
    await api(`/api/webhook_subscriptions/${s.id}`, { method: "PATCH", body: JSON.stringify({ active: !enabled(s) }) }).then(() => say(`Subscription ${enabled(s) ? "disabled" : "enabled"}`), (e: Error) => say(e.message));
    rerender();
  } }, enabled(s) ? "Disable" : "Enable");
  const subRows = subs.data.map((s) => {
    const row = h("tr", { "data-row": s.id, tabindex: -1 },
      h("td", { class: "break" }, s.url), h("td", {}, h("code", {}, s.pattern)), h("td", {}, s.format === "standard" ? "standard" : "standard + maniflex"),
      h("td", {}, enabled(s) ? h("span", { class: "state state-active" }, "enabled") : h("span", { class: "state state-paused" }, "disabled")),
      h("td", { class: "mono", title: "write-only: only its end is shown" }, s.secret_hint ?? "set"),
      h("td", { class: "actions" }, toggle(s), h("button", { type: "button", onclick: () => {
        if (row.nextElementSibling?.classList.contains("editor")) return;
        row.after(h("tr", { class: "editor" }, h("td", { colspan: 6 }, editor(s, rerender))));
        (row.nextElementSibling?.querySelector("input") as HTMLInputElement | null)?.focus();
      } }, "Edit")));
    return row;
  });
  const deliveries = (list: Delivery[], caption: string) => table("deliveries", caption, ["Delivery", "Event", "State", "Tries", "HTTP", "Last error", "Updated", ""], list.map((d) => h("tr", { "data-row": d.id, tabindex: -1 },
    h("td", { class: "id" }, h("a", { href: `#/jobs/${d.id}`, class: "mono" }, d.id)),
    h("td", {}, d.event_type ?? "—"),
    h("td", {}, stateBadge(d.status)),
    h("td", { class: "num" }, `${d.attempts}/${d.max_retry}`),
    h("td", { class: "num" }, d.last_http_status === null ? h("span", { class: "muted", title: "the receiver has not answered any attempt (refused, timed out, or not tried)" }, "none") : h("span", { class: d.last_http_status < 300 ? "http-ok" : "http-bad" }, d.last_http_status)),
    h("td", { class: "break" }, d.error ?? "—"),
    h("td", { class: "time" }, when(d.updated_at)),
    h("td", {}, h("button", { type: "button", "aria-label": `Redeliver ${d.id}`, onclick: async () => {
      await post<{ data: { job_id: string } }>(`/api/admin/webhook_deliveries/${d.id}/redeliver`).then((r) => say(`Redelivering as ${r.data.job_id}`), (e: Error) => say(e.message));
      rerender();
    } }, "Redeliver")))), "None.");
  return [h("h2", {}, "Webhooks"),
    table("subscriptions", "Subscriptions", ["URL", "Pattern", "Format", "State", "Secret", "Actions"], subRows, "No subscriptions (code-configured ones are not listed)."),
    h("h3", {}, "Recent deliveries"), deliveries(recent.data, "Recent deliveries"),
    h("h3", {}, "Failing and dead deliveries"), deliveries(failing.data, "Failing and dead deliveries")];
}
