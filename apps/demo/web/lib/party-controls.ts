/**
 * The pointing party's table controls: the deck (presets or a custom list, picked by whoever may
 * drive; built once so a re-render never loses what is being typed) and the round's timer,
 * counting down to the server's deadline corrected by the server's clock.
 */
import { h } from "./dom.js";
import type { Point } from "./party-backlog.js";

/** A party's deck: its name and cards. */
export interface Deck {
  name: string;
  values: Point[];
}

/** The deck a party starts with. */
export const DEFAULT_DECK: Deck = { name: "standard", values: [1, 2, 3, 5, 8, 13, "?", "☕"] };
const DECK_NAMES: Record<string, string> = { standard: "Standard (1–13)", fibonacci: "Fibonacci (0–55)", tshirt: "T-shirt sizes", custom: "Custom…" };

/** True for a card value. */
export const isPoint = (v: unknown): v is Point => typeof v === "number" || typeof v === "string";

/** A deck from the server, or null. */
export function deckOf(value: unknown): Deck | null {
  const d = value as { name?: unknown; values?: unknown } | null;
  if (typeof d !== "object" || d === null || typeof d.name !== "string" || !Array.isArray(d.values)) return null;
  return { name: d.name, values: d.values.filter(isPoint) };
}

/** How the deck is named to those who cannot change it. */
export function deckLabel(deck: Deck): string {
  return deck.name === "custom" ? `custom (${deck.values.join(", ")})` : DECK_NAMES[deck.name] ?? deck.name;
}

/** The deck picker: `show(deck)` brings it up to date and returns its element. */
export function deckPicker(send: (payload: Record<string, unknown>, onOk: () => void) => void): { show(deck: Deck): HTMLElement } {
  let deck = DEFAULT_DECK;
  let customOpen = false;
  const select = h("select", { id: "deck", "aria-label": "Deck" },
    Object.entries(DECK_NAMES).map(([name, label]) => h("option", { value: name }, label)));
  const custom = h("input", { id: "deck-custom", type: "text", placeholder: "1, 2, 3, 5, 8", maxlength: 200, "aria-label": "Custom cards, separated by commas" });
  const form = h("form", { class: "deck-form inline-form", hidden: true }, custom, h("button", { class: "button small", type: "submit", id: "deck-save" }, "Use these cards"));
  const element = h("div", { class: "deck-picker" }, h("label", { for: "deck", class: "muted small" }, "Deck"), select, form,
    h("p", { class: "muted small" }, "“?” and “☕” are in every deck and never count."));
  const update = (): void => {
    if (document.activeElement !== select) select.value = customOpen ? "custom" : deck.name;
    form.hidden = !customOpen && deck.name !== "custom";
    if (document.activeElement !== custom && !customOpen) custom.value = deck.name === "custom" ? deck.values.filter((v) => v !== "?" && v !== "☕").join(", ") : "";
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send({ custom: custom.value.split(",").map((v) => v.trim()).filter((v) => v !== "") }, () => { customOpen = false; update(); });
  });
  select.addEventListener("change", () => {
    customOpen = select.value === "custom";
    if (customOpen) {
      update();
      custom.focus();
    } else send({ preset: select.value }, () => undefined);
  });
  return {
    show(next) {
      deck = next;
      update();
      return element;
    },
  };
}

/** The round's timer: `set` the server's deadline (and its clock), `tick(running)` redraws it. */
export function roundTimer(): { element: HTMLElement; set(deadline: number | null, serverNow?: unknown): void; tick(running: boolean): void } {
  const element = h("p", { class: "timer", id: "timer", role: "timer", "aria-live": "off", hidden: true });
  let deadline: number | null = null;
  /** The server's clock minus ours, so every page counts down to the same instant. */
  let skew = 0;
  return {
    element,
    set(next, serverNow) {
      deadline = next;
      if (typeof serverNow === "number") skew = serverNow - Date.now();
    },
    tick(running) {
      if (deadline === null || !running) {
        element.hidden = true;
        return;
      }
      const left = Math.max(0, deadline - (Date.now() + skew));
      const seconds = Math.ceil(left / 1000);
      element.hidden = false;
      element.classList.toggle("ending", seconds <= 10);
      element.textContent = left === 0 ? "Time is up" : `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")} left`;
    },
  };
}
