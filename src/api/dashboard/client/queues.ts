// Named queues: jobs per state, concurrency in use, rate limit, pause and resume. A paused
// queue keeps accepting jobs and claims none until it is resumed.
import { api, h, post, say, table } from "./dom.ts";
import type { Queue } from "./types.ts";
import { STATES } from "./types.ts";

const rate = (q: Queue) => (q.rate_limit ? `${q.rate_limit.limit} per ${Math.round(Number(q.rate_limit.interval_ms ?? q.rate_limit.period_ms ?? 0) / 1000)} s` : "—");

export async function queues(rerender: () => void): Promise<Node[]> {
  const { data } = await api<{ data: Queue[] }>("/api/queues");
  const toggle = (q: Queue) => h("button", { type: "button", class: q.paused ? "primary" : "danger", "aria-label": `${q.paused ? "Resume" : "Pause"} queue ${q.name}`, onclick: async () => {
    try {
      await post(`/api/queues/${encodeURIComponent(q.name)}/${q.paused ? "resume" : "pause"}`);
      say(`Queue ${q.name} ${q.paused ? "resumed" : "paused"}`);
    } catch (error) {
      say((error as Error).message);
    }
    rerender();
  } }, q.paused ? "Resume" : "Pause");
  const link = (q: Queue, state: string, n: number) => h("a", { href: `#/jobs?queue=${encodeURIComponent(q.name)}&status=${state}` }, n);
  const rows = data.map((q) => h("tr", { "data-row": q.name, "data-queue": q.name, tabindex: -1 },
    h("td", {}, h("a", { href: `#/jobs?queue=${encodeURIComponent(q.name)}` }, q.name)),
    h("td", {}, q.paused ? h("span", { class: "state state-paused" }, "paused") : h("span", { class: "state state-active" }, "active")),
    h("td", { class: "num" }, q.concurrency === null ? `${q.running}` : `${q.running} / ${q.concurrency}`),
    STATES.map((s) => h("td", { class: "num" }, link(q, s, q.counts[s] ?? 0))),
    h("td", {}, rate(q)),
    h("td", {}, toggle(q))));
  return [h("h2", {}, "Queues"),
    h("p", { class: "muted" }, "In use / limit: the queue's jobs running now, and its concurrency limit per process. A paused queue accepts jobs and starts none until resumed; the pause survives a restart."),
    table("queues", "Queues", ["Queue", "State", "In use / limit", ...STATES.map((s) => s[0]!.toUpperCase() + s.slice(1)), "Rate limit", ""], rows, "No queues.")];
}
