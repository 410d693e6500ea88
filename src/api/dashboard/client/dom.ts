// The dashboard's small toolkit: build elements (no innerHTML of data, no inline handlers or
// styles: the page's Content-Security-Policy allows neither), call the API with the admin's
// token, and format times and states. Everything a view needs and nothing it does not.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element with attributes (`on…` ones become listeners) and children (null/false skipped). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** An SVG element (the overview's chart). */
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const child of children.flat(Infinity as 1) as Child[]) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

export const token = (): string | null => sessionStorage.getItem("backroom-token");

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/** A JSON call with the admin's token; a non-2xx answer throws the envelope's message. */
export async function api<T = unknown>(path: string, options: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token()}` };
  if (options.body) headers["content-type"] = "application/json";
  const res = await fetch(path, { ...options, headers });
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new ApiError(body?.error?.message ?? res.statusText, res.status);
  return body as T;
}

export const post = <T = unknown>(path: string, body?: unknown) => api<T>(path, { method: "POST", ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

const pad = (n: number) => String(n).padStart(2, "0");
/** A compact local time: "14:05:09" today, "12-01 14:05" this year, else "2025-12-01". Full time in the title. */
export function when(value: string | number | null | undefined): Node | string {
  if (value === null || value === undefined) return "—";
  const d = new Date(value), now = new Date();
  const text = d.toDateString() === now.toDateString() ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    : d.getFullYear() === now.getFullYear() ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return h("time", { datetime: d.toISOString(), title: d.toLocaleString() }, text);
}

/** A full local date and time (the job page has room for it). */
export const fullTime = (value: string | number | null | undefined): string => (value === null || value === undefined ? "—" : new Date(value).toLocaleString());

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const stateBadge = (state: string) => h("span", { class: `state state-${state}` }, state);

const live = () => document.getElementById("live")!;
/** The aria-live status line: what just happened. */
export function say(text: string): void {
  live().textContent = text;
}

/** A labelled field for the filter forms. */
export const field = (label: string, control: HTMLElement) => h("label", {}, h("span", {}, label), control);

/** A table that turns into cards on a narrow screen: each cell carries its column's name. */
export function table(className: string, caption: string, columns: string[], rows: HTMLTableRowElement[], empty: string): HTMLTableElement {
  for (const row of rows) [...row.cells].forEach((cell, i) => columns[i] && !cell.hasAttribute("data-label") && cell.setAttribute("data-label", columns[i]!));
  const numeric = rows[0] ? [...rows[0].cells].map((cell) => cell.classList.contains("num")) : [];
  return h("table", { class: `grid ${className}` }, h("caption", { class: "sr" }, caption),
    h("thead", {}, h("tr", {}, columns.map((c, i) => h("th", { scope: "col", class: numeric[i] ? "num" : null }, c)))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty))));
}
