// One job in full: its fields, retry / cancel, every attempt as a timeline (start, duration,
// outcome, error and stack, worker), payload and output.
import { actorLabel, loadActors } from "./actors.ts";
import { api, duration, fullTime, h, post, say, stateBadge } from "./dom.ts";
import type { AdminJob, Attempt } from "./types.ts";

function timeline(attempts: Attempt[]): HTMLElement {
  if (!attempts.length) return h("p", { class: "muted" }, "Not attempted yet.");
  const longest = Math.max(1, ...attempts.map((a) => a.durationMs ?? 0));
  return h("ol", { class: "timeline", "aria-label": "Attempts" }, attempts.map((a) => h("li", { class: `attempt outcome-${a.outcome}` },
    h("div", { class: "attempt-head" },
      h("strong", {}, `Attempt ${a.attempt}`), " ", h("span", { class: `state state-${a.outcome}` }, a.outcome),
      h("span", { class: "muted" }, ` ${fullTime(a.startedAt)} · ${duration(a.durationMs)}${a.worker ? ` · worker ${a.worker}` : ""}`)),
    h("div", { class: "meter", role: "presentation" }, h("span", { class: `fill w${Math.max(1, Math.round((10 * (a.durationMs ?? 0)) / longest))}` })),
    a.error ? h("p", { class: "attempt-error" }, a.error) : null,
    a.stack ? h("details", {}, h("summary", {}, "Stack"), h("pre", {}, a.stack)) : null)));
}

export async function job(id: string, rerender: () => void): Promise<Node[]> {
  const { data: j } = await api<{ data: AdminJob }>(`/api/admin/jobs/${encodeURIComponent(id)}`);
  const actors = await loadActors([j.actorId]);
  const act = (path: string, label: string, done: string) => h("button", { type: "button", class: "primary", onclick: async () => {
    try {
      await post(`/api/job_statuses/${j.id}/${path}`);
      say(`Job ${done}`);
    } catch (error) {
      say((error as Error).message);
    }
    rerender();
  } }, label);
  const rows: [string, Node | string | number][] = [
    ["ID", h("span", { class: "mono" }, j.id)], ["Type", j.type], ["Queue", j.queue ?? "default"], ["State", stateBadge(j.status)],
    ["Attempts", `${j.attempts} of ${j.maxRetry}`], ["Priority", j.priority], ["Group", j.groupKey ?? "—"], ["Actor", actorLabel(actors, j.actorId)], ["Trace", j.traceId ?? "—"],
    ["Created", fullTime(j.createdAt)], ["Runs at", fullTime(j.runAt)], ["Started", fullTime(j.startedAt)], ["Completed", fullTime(j.completedAt)],
    ["Run time", j.startedAt && j.completedAt ? duration(j.completedAt - j.startedAt) : "—"], ["Last error", j.error ?? "—"], ["Result URL", j.resultUrl ?? "—"]];
  return [h("p", {}, h("a", { href: "#/jobs" }, "← Jobs")), h("h2", { class: "break" }, `Job ${j.id}`),
    h("div", { class: "row" }, j.status === "dead" ? act("retry", "Retry", "retried") : null, j.status === "enqueued" || j.status === "failed" ? act("cancel", "Cancel", "cancelled") : null),
    h("dl", {}, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("h3", {}, "Attempts"), j.attemptsHistory ? timeline(j.attemptsHistory) : h("p", { class: "muted" }, "This server keeps the last error only."),
    h("h3", {}, "Payload"), h("pre", {}, JSON.stringify(j.payload, null, 2)),
    h("h3", {}, "Output"), h("pre", {}, JSON.stringify(j.output, null, 2))];
}
