/**
 * The pointing party's backlog panel: the cards in their order with their estimates (and the
 * average and spread behind each), and for each card edit, delete and move up / down — pushed
 * to the party channel, which decides and sends everyone the new backlog. Below it, the
 * estimates summary: "Copy summary" (the server's text, to the clipboard) and "Download CSV".
 */
import { h, plural, replace } from "./dom.js";

/** A card value: a number or a label ("M", "?", "☕"). */
export type Point = number | string;

/** The average and spread of a card's numeric votes. */
export interface Stats {
  average: number;
  min: number;
  max: number;
  count: number;
}

/** A card of the backlog, as the server sends it. */
export interface BacklogCard {
  id: number;
  title: string;
  description: string;
  position: number;
  estimate: Point | null;
  stats: Stats | null;
}

/** "average 4.33 · 3–5", or "" without numeric votes. */
export function statsText(stats: Stats | null): string {
  if (stats === null) return "";
  const spread = stats.min === stats.max ? `${stats.min}` : `${stats.min}–${stats.max}`;
  return `average ${stats.average} · spread ${spread}`;
}

/** Backlog cards from a server payload (unreadable entries dropped). */
export function backlogOf(value: unknown): BacklogCard[] {
  if (!Array.isArray(value)) return [];
  return value.filter((c): c is BacklogCard => typeof c === "object" && c !== null
    && typeof (c as BacklogCard).id === "number" && typeof (c as BacklogCard).title === "string")
    .map((c) => ({
      id: c.id, title: c.title, description: typeof c.description === "string" ? c.description : "",
      position: typeof c.position === "number" ? c.position : 0,
      estimate: typeof c.estimate === "number" || typeof c.estimate === "string" ? c.estimate : null,
      stats: typeof c.stats === "object" && c.stats !== null ? c.stats : null,
    }));
}

/** What the panel asks of the page. */
export interface BacklogActions {
  /** Pushes a backlog change; resolves with an error message, or null when the server took it. */
  push(event: "edit_card" | "delete_card" | "move_card", payload: Record<string, unknown>): Promise<string | null>;
  /** Fetches the summary text (for the clipboard). */
  summaryText(): Promise<string>;
  /** The CSV download's URL. */
  csvUrl: string;
}

/** The backlog panel: `render` it with the cards and the id of the card on the table. */
export function backlogPanel(actions: BacklogActions): { list: HTMLOListElement; summary: HTMLElement; render(cards: readonly BacklogCard[], current: number | null): void } {
  const list = h("ol", { id: "backlog", class: "backlog", "aria-label": "Backlog" });
  const status = h("p", { class: "form-status", role: "status", "aria-live": "polite", hidden: true });
  const say = (kind: "ok" | "error", message: string): void => {
    status.className = `form-status ${kind}`;
    status.textContent = message;
    status.hidden = false;
  };
  /** The card being edited (its form stays open across re-renders). */
  let editing: number | null = null;
  /** What has been typed in that form so far: a re-render (someone votes, the timer ticks) keeps it. */
  let draft: { title: string; description: string; focused: "title" | "description" | null } | null = null;
  let last: { cards: readonly BacklogCard[]; current: number | null } = { cards: [], current: null };

  const act = async (event: "edit_card" | "delete_card" | "move_card", payload: Record<string, unknown>): Promise<boolean> => {
    status.hidden = true;
    const problem = await actions.push(event, payload);
    if (problem !== null) say("error", problem);
    return problem === null;
  };

  const editor = (card: BacklogCard): HTMLElement => {
    const kept = draft;
    const title = h("input", { type: "text", class: "edit-title", value: kept?.title ?? card.title, maxlength: 200, "aria-label": "Title" });
    const description = h("textarea", { class: "edit-description", rows: 2, maxlength: 2000, "aria-label": "Description" });
    description.value = kept?.description ?? card.description;
    const keep = (focused: "title" | "description" | null): void => { draft = { title: title.value, description: description.value, focused }; };
    title.addEventListener("input", () => keep("title"));
    description.addEventListener("input", () => keep("description"));
    title.addEventListener("focus", () => keep("title"));
    description.addEventListener("focus", () => keep("description"));
    title.addEventListener("blur", () => keep(null));
    description.addEventListener("blur", () => keep(null));
    if (kept?.focused) queueMicrotask(() => (kept.focused === "title" ? title : description).focus());
    const form = h("form", { class: "backlog-edit stack compact" }, title, description,
      h("div", { class: "row" },
        h("button", { class: "button small primary", type: "submit" }, "Save"),
        h("button", { class: "button small", type: "button", onclick: () => { editing = null; draft = null; render(last.cards, last.current); } }, "Cancel")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void act("edit_card", { id: card.id, title: title.value, description: description.value }).then((done) => {
        if (done) { editing = null; draft = null; }
        render(last.cards, last.current);
      });
    });
    return form;
  };

  const render = (cards: readonly BacklogCard[], current: number | null): void => {
    last = { cards, current };
    if (editing !== null && !cards.some((c) => c.id === editing)) { editing = null; draft = null; }
    replace(list, cards.length === 0 ? h("li", { class: "empty" }, "No cards yet.") : cards.map((c, i) =>
      h("li", { class: `backlog-item${current === c.id ? " current" : ""}`, dataset: { id: String(c.id), position: String(c.position) } },
        h("div", { class: "backlog-main" },
          h("span", { class: "backlog-title", title: c.description || c.title }, c.title),
          c.estimate === null
            ? h("span", { class: "estimate none", title: "Not estimated yet" }, "–")
            : h("span", { class: "estimate", title: statsText(c.stats) || `Estimate ${c.estimate}`, dataset: { estimate: String(c.estimate) } }, String(c.estimate)),
          h("span", { class: "backlog-tools" },
            h("button", { class: "icon-button move-up", type: "button", title: "Move up", "aria-label": `Move “${c.title}” up`, disabled: i === 0,
              onclick: () => void act("move_card", { id: c.id, to: c.position - 1 }) }, "↑"),
            h("button", { class: "icon-button move-down", type: "button", title: "Move down", "aria-label": `Move “${c.title}” down`, disabled: i === cards.length - 1,
              onclick: () => void act("move_card", { id: c.id, to: c.position + 1 }) }, "↓"),
            h("button", { class: "icon-button edit", type: "button", title: "Edit", "aria-label": `Edit “${c.title}”`,
              onclick: () => { editing = c.id; draft = null; render(last.cards, last.current); } }, "✎"),
            h("button", { class: "icon-button delete", type: "button", title: "Delete", "aria-label": `Delete “${c.title}”`, disabled: current === c.id,
              onclick: () => { if (confirm(`Delete “${c.title}”?`)) void act("delete_card", { id: c.id }); } }, "×"))),
        editing === c.id ? editor(c) : null)));
  };

  const estimated = (): number => last.cards.filter((c) => c.estimate !== null).length;
  const copy = h("button", { class: "button small", type: "button", id: "copy-summary", onclick: async () => {
    status.hidden = true;
    try {
      await navigator.clipboard.writeText(await actions.summaryText());
      say("ok", `Copied the summary (${plural(estimated(), "estimate")}).`);
    } catch {
      say("error", "Could not copy: your browser refused the clipboard. Use the CSV download instead.");
    }
  } }, "Copy summary");
  const csv = h("a", { class: "button small", id: "download-csv", href: actions.csvUrl, download: "" }, "Download CSV");
  const summary = h("div", { class: "summary-actions" }, h("span", { class: "muted small" }, "Estimates summary"), h("div", { class: "row" }, copy, csv), status);
  return { list, summary, render };
}
