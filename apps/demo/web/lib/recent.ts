/**
 * The rooms and parties this browser visited lately (in `localStorage`, newest first, at most
 * ten per kind), for the home page's "recent" list, and invite links to copy.
 */
import { toast } from "./toast.js";

/** What can be remembered. */
export type RecentKind = "retro" | "party";

/** One remembered place. */
export interface RecentPlace {
  kind: RecentKind;
  name: string;
  /** When it was last opened (ms). */
  at: number;
}

const KEY = "cinder.recent";
const PER_KIND = 10;

/** The remembered places, newest first (empty when storage is unavailable or unreadable). */
export function recentPlaces(): RecentPlace[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((p): p is RecentPlace => typeof p === "object" && p !== null
      && (p.kind === "retro" || p.kind === "party") && typeof p.name === "string" && typeof p.at === "number")
      .sort((a, b) => b.at - a.at);
  } catch {
    return [];
  }
}

/** Remembers that `name` was opened now. */
export function rememberPlace(kind: RecentKind, name: string): void {
  const others = recentPlaces().filter((p) => !(p.kind === kind && p.name === name));
  const mine = [{ kind, name, at: Date.now() }, ...others.filter((p) => p.kind === kind)].slice(0, PER_KIND);
  try {
    localStorage.setItem(KEY, JSON.stringify([...mine, ...others.filter((p) => p.kind !== kind)]));
  } catch {
    // storage full or disabled: the list is a convenience
  }
}

/** The page of a place, as a path. */
export function placePath(place: Pick<RecentPlace, "kind" | "name">): string {
  return `/${place.kind}/${encodeURIComponent(place.name)}`;
}

/** The invite link of a place (absolute, to share). */
export function inviteLink(place: Pick<RecentPlace, "kind" | "name">): string {
  return new URL(placePath(place), location.origin).href;
}

/** Copies `text` to the clipboard; false when the browser refused. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Copies the invite link of `place` and says so in a toast (or shows the link when copying was refused). */
export async function copyInvite(place: Pick<RecentPlace, "kind" | "name">): Promise<void> {
  const link = inviteLink(place);
  if (await copyText(link)) toast({ kind: "success", title: "Invite link copied", body: link, duration: 4000 });
  else toast({ kind: "info", title: "Share this link", body: link, duration: 0 });
}
