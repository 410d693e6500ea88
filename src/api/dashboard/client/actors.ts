// Who a job was enqueued for, by name and email rather than a raw user id: the users on a
// page are read in one call (GET /api/users, admin only) and remembered for the session.
import { api, h } from "./dom.ts";
import type { User } from "./types.ts";

const known = new Map<string, User | null>();

/** Reads the users not seen yet (one request for the page; ids no user has are remembered as such). */
export async function loadActors(ids: (string | null)[]): Promise<Map<string, User | null>> {
  const wanted = [...new Set(ids.filter((id): id is string => !!id && !known.has(id)))].slice(0, 100);
  if (wanted.length) {
    try {
      const { data } = await api<{ data: User[] }>(`/api/users?limit=100&filter=${encodeURIComponent(`id:in:${wanted.join(",")}`)}`);
      for (const id of wanted) known.set(id, data.find((u) => u.id === id) ?? null);
    } catch {
      // Names are a convenience: the ids still show.
    }
  }
  return known;
}

/** "Ana Lima" with the email beside it (and the id in the title), or the bare id of a deleted user. */
export function actorLabel(actors: Map<string, User | null>, id: string | null): Node | string {
  if (!id) return "—";
  const user = actors.get(id);
  if (!user) return h("span", { class: "mono", title: "no such user (deleted?)" }, id);
  return h("span", { title: `${user.email} (${id})` }, user.name, " ", h("small", { class: "muted" }, user.email));
}
