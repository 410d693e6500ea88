// Cron schedules: next and last fire; pause, resume, run now.
import { api, h, post, say, table, when } from "./dom.ts";
import type { Schedule } from "./types.ts";

export async function schedules(rerender: () => void): Promise<Node[]> {
  const { data } = await api<{ data: Schedule[] }>("/api/schedules");
  const act = (s: Schedule, path: string, label: string) => h("button", { type: "button", onclick: async () => {
    await post(`/api/schedules/${encodeURIComponent(s.name)}/${path}`).then(() => say(`${label}: ${s.name}`), (e: Error) => say(e.message));
    rerender();
  } }, label);
  const rows = data.map((s) => h("tr", { "data-row": s.name, tabindex: -1 },
    h("td", {}, s.name), h("td", {}, h("code", {}, s.schedule), s.timezone ? ` (${s.timezone})` : ""), h("td", {}, s.type),
    h("td", { class: "time" }, when(s.next_fire_at)), h("td", { class: "time" }, when(s.last_fired_at)), h("td", {}, s.paused ? "paused" : "active"),
    h("td", { class: "actions" }, s.paused ? act(s, "resume", "Resume") : act(s, "pause", "Pause"), act(s, "run", "Run now"))));
  return [h("h2", {}, "Schedules"), table("schedules", "Schedules", ["Name", "Schedule", "Job type", "Next fire", "Last fire", "State", "Actions"], rows, "No schedules.")];
}
