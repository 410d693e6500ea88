// The overview: jobs per state (cards), the oldest waiting job, the last hour's outcomes as a
// chart with axes, jobs per type, and each queue at a glance. The chart keeps jobs and attempts
// apart: "succeeded" and "dead" count jobs that finished; "failed" counts attempts that failed
// and were scheduled to retry (one job can fail several times), so it is never added to jobs.
import { api, h, stateBadge, svg, table, when } from "./dom.ts";
import type { Overview, Queue, State } from "./types.ts";

const H = 190, LEFT = 44, RIGHT = 8, TOP = 10, BOTTOM = 34;

/** A round axis maximum at or above `n` (1, 2, 5 × 10^k). */
function niceMax(n: number): number {
  if (n <= 4) return 4;
  const step = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * step).find((v) => v >= n)!;
}

/** Drawn at the width it will be shown (so its 11 px labels stay 11 px on a phone). */
function chart(activity: Overview["activity"], W: number): SVGElement {
  const max = niceMax(Math.max(...activity.map((m) => Math.max(m.succeeded + m.dead, m.failed))));
  const plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM, slot = plotW / activity.length;
  const y = (v: number) => TOP + plotH - (v / max) * plotH;
  const ticks = [0, max / 2, max];
  const labels = [0, 15, 30, 45, 59].map((i) => ({ i, at: new Date(activity[i]!.minute) }));
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-labelledby": "chart-title", class: "chart" },
    svg("title", { id: "chart-title" }, "Outcomes per minute over the last hour"),
    ticks.map((t) => [svg("line", { x1: LEFT, x2: W - RIGHT, y1: y(t), y2: y(t), class: "gridline" }), svg("text", { x: LEFT - 6, y: y(t) + 4, "text-anchor": "end", class: "axis" }, String(t))]),
    svg("text", { x: 12, y: TOP + plotH / 2, "text-anchor": "middle", class: "axis", transform: `rotate(-90 12 ${TOP + plotH / 2})` }, "per minute"),
    activity.map((m, i) => {
      const x = LEFT + i * slot, w = Math.max(1, slot * 0.42);
      const title = `${new Date(m.minute).toLocaleTimeString()}: ${m.succeeded} jobs succeeded, ${m.dead} went dead, ${m.failed} attempts failed (retrying)`;
      return svg("g", {}, svg("title", {}, title),
        svg("rect", { x, y: y(m.succeeded), width: w, height: y(0) - y(m.succeeded), class: "bar-ok" }),
        svg("rect", { x, y: y(m.succeeded + m.dead), width: w, height: y(0) - y(m.dead), class: "bar-dead" }),
        svg("rect", { x: x + w, y: y(m.failed), width: w, height: y(0) - y(m.failed), class: "bar-retry" }));
    }),
    svg("line", { x1: LEFT, x2: W - RIGHT, y1: y(0), y2: y(0), class: "axisline" }),
    labels.map(({ i, at }) => svg("text", { x: LEFT + i * slot + slot / 2, y: H - BOTTOM + 16, "text-anchor": i === 59 ? "end" : "middle", class: "axis" },
      i === 59 ? "now" : `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`)),
    svg("text", { x: LEFT + plotW / 2, y: H - 4, "text-anchor": "middle", class: "axis" }, "minute (local time)"));
}

/** Each queue's state now beside its last hour: jobs succeeded, jobs gone dead, failed attempts. */
function queueTable(queues: Queue[], hour: NonNullable<Overview["activity_by_queue"]>): HTMLTableElement {
  const rows = queues.map((q) => {
    const done = hour.find((a) => a.queue === q.name) ?? { succeeded: 0, dead: 0, failed: 0 };
    return h("tr", {},
      h("td", {}, h("a", { href: `#/jobs?queue=${encodeURIComponent(q.name)}` }, q.name)), h("td", {}, q.paused ? h("span", { class: "state state-paused" }, "paused") : "active"),
      h("td", { class: "num" }, `${q.running}${q.concurrency === null ? "" : ` / ${q.concurrency}`}`), h("td", { class: "num" }, q.counts.enqueued + q.counts.failed),
      h("td", { class: "num" }, done.succeeded), h("td", { class: "num" }, done.dead), h("td", { class: "num" }, done.failed));
  });
  return table("queues-mini", "Queues now and over the last hour", ["Queue", "State", "In use / limit", "Waiting", "Succeeded (1 h)", "Went dead (1 h)", "Failed attempts (1 h)"], rows, "No queues.");
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export async function overview(): Promise<Node[]> {
  const [{ data }, queues] = await Promise.all([
    api<{ data: Overview }>("/api/admin/overview"),
    api<{ data: Queue[] }>("/api/queues").then((r) => r.data, () => null), // older servers have no queues
  ]);
  const byState: Partial<Record<State, number>> = {};
  for (const c of data.counts) byState[c.status] = (byState[c.status] ?? 0) + c.n;
  const hour = data.activity.reduce((a, m) => ({ ok: a.ok + m.succeeded, dead: a.dead + m.dead, retried: a.retried + m.failed }), { ok: 0, dead: 0, retried: 0 });
  const finished = hour.ok + hour.dead;
  const figure = h("figure", { class: "figure" },
    h("figcaption", {}, h("strong", {}, "Last hour: "), `${plural(hour.ok, "job")} succeeded, ${hour.dead} went dead (out of attempts)`,
      ` — ${finished ? ((100 * hour.dead) / finished).toFixed(1) : "0"}% of finished jobs; ${plural(hour.retried, "failed attempt")} retried.`),
    chart(data.activity, Math.round(Math.max(300, Math.min(760, document.getElementById("main")!.clientWidth - 40)))),
    h("ul", { class: "legend" }, h("li", { class: "key-ok" }, "jobs succeeded"), h("li", { class: "key-dead" }, "jobs gone dead"), h("li", { class: "key-retry" }, "attempts failed, retrying")));
  const typeRows = data.counts.map((c) => h("tr", {},
    h("td", {}, h("a", { href: `#/jobs?type=${encodeURIComponent(c.type)}&status=${c.status}` }, c.type)), h("td", {}, stateBadge(c.status)), h("td", { class: "num" }, c.n)));
  return [h("h2", {}, "Overview"),
    h("div", { class: "cards" }, (["enqueued", "running", "failed", "dead", "cancelled"] as State[]).map((s) =>
      h("a", { class: `card card-${s}`, href: `#/jobs?status=${s}` }, h("b", {}, byState[s] ?? 0), h("span", {}, s === "failed" ? "failed, retrying" : s)))),
    h("p", {}, "Oldest waiting job due since: ", h("strong", {}, when(data.oldest_waiting_since))),
    figure,
    ...(queues ? [h("h3", {}, "Queues: now, and the last hour's throughput"), queueTable(queues, data.activity_by_queue ?? [])] : []),
    h("h3", {}, "Unfinished, dead and cancelled jobs by type"),
    table("by-type", "Jobs by type and state", ["Type", "State", "Jobs"], typeRows, "Nothing waiting, running or dead.")];
}
