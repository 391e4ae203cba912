/** Presence lists: one row per user with their tab count, rendered as text. */
import type { PresenceEntry } from "@cinder/client";
import { avatar, h, plural, timeElement } from "./dom.js";

/** One present user, summarised from their metas. */
export interface Person {
  key: string;
  name: string;
  /** How many connections (tabs) they have here. */
  tabs: number;
  /** The earliest `online_at` of their metas (ms), if any. */
  since: number | undefined;
  /** Their metas. */
  metas: Array<Record<string, unknown>>;
}

/** Summarises a presence entry. `name` picks the display name (default: the key). */
export function person(key: string, entry: PresenceEntry, name: (key: string, entry: PresenceEntry) => string = (k) => k): Person {
  const times = entry.metas.map((meta) => meta.online_at).filter((t): t is number => typeof t === "number");
  return { key, name: name(key, entry), tabs: entry.metas.length, since: times.length > 0 ? Math.min(...times) : undefined, metas: entry.metas };
}

/** Sorts people: me first, then by name. */
export function sortPeople(people: Person[], me: string): Person[] {
  return [...people].sort((a, b) => (a.name === me ? -1 : b.name === me ? 1 : a.name.localeCompare(b.name)));
}

/** A row of the people list: avatar, name ("you"), since-when, tab count, and an optional extra. */
export function personRow(p: Person, me: string, extra?: Node | null, showSince = true): HTMLLIElement {
  return h("li", { class: "person", dataset: { user: p.name } },
    avatar(p.name),
    h("div", { class: "person-main" },
      h("span", { class: "person-name" }, p.name, p.name === me ? h("span", { class: "you" }, " (you)") : null),
      showSince && p.since !== undefined ? h("span", { class: "person-meta" }, "online since ", timeElement(p.since)) : null),
    p.tabs > 1 ? h("span", { class: "badge", title: `${plural(p.tabs, "tab")} open`, dataset: { tabs: String(p.tabs) } }, plural(p.tabs, "tab")) : null,
    extra ?? null);
}
