/**
 * A party's deck of cards and how votes on it add up, pure. A card value is a number (it counts
 * in the average and spread) or a label ("M", "½"); "?" (not sure) and "☕" (need a break) are in
 * every deck and never count in the tally. A custom deck is a list of labels; labels that read
 * as numbers become numbers.
 */

/** One card of a deck: a number, or a label. */
export type Point = number | string;

/** "Not sure": in every deck, never counted. */
export const UNSURE = "?";
/** "Need a break": in every deck, never counted. */
export const BREAK = "☕";
/** The cards that never count in the tally, the average or the spread. */
export const ABSTAIN: readonly Point[] = [UNSURE, BREAK];

/** The decks a party can pick. */
export const PRESETS = {
  standard: [1, 2, 3, 5, 8, 13],
  fibonacci: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55],
  tshirt: ["XS", "S", "M", "L", "XL"],
} as const satisfies Record<string, readonly Point[]>;

/** A preset's name. */
export type PresetName = keyof typeof PRESETS;

/** A party's deck: its name and its cards in order ("?" and "☕" last). */
export interface Deck {
  readonly name: PresetName | "custom";
  readonly values: readonly Point[];
}

/** The deck a party starts with. */
export const DEFAULT_DECK: Deck = { name: "standard", values: [...PRESETS.standard, ...ABSTAIN] };

/** The most cards a custom deck may have (besides "?" and "☕"), and the longest label. */
export const CUSTOM_LIMITS = { cards: 20, label: 6 } as const;

/** A deck, or why the request is refused. */
export type DeckResult = { ok: true; deck: Deck } | { ok: false; error: string };

/** A preset by name. */
export function preset(name: PresetName): Deck {
  return { name, values: [...PRESETS[name], ...ABSTAIN] };
}

/** True when `name` is a preset's name. */
export function isPreset(name: string): name is PresetName {
  return Object.hasOwn(PRESETS, name);
}

/** A label as a card value: a finite number when it reads as one ("0.5", "100"), else the label. */
export function pointOf(label: string): Point {
  return /^-?\d+(\.\d+)?$/.test(label) && Number.isFinite(Number(label)) ? Number(label) : label;
}

/** A custom deck from labels: 1–20 distinct labels of 1–6 characters ("?" and "☕" are added). */
export function customDeck(labels: readonly unknown[]): DeckResult {
  const values: Point[] = [];
  for (const raw of labels) {
    if (typeof raw !== "string" && typeof raw !== "number") return { ok: false, error: "every card must be a label or a number" };
    const label = String(raw).trim();
    if (label === "" || [...label].length > CUSTOM_LIMITS.label) return { ok: false, error: `every card must have 1 to ${CUSTOM_LIMITS.label} characters` };
    if (/[\u0000-\u001f\u007f]|[\uD800-\uDFFF]/.test(label)) return { ok: false, error: "a card must not contain control characters or invalid Unicode" };
    const value = pointOf(label);
    if (ABSTAIN.includes(value)) continue;
    if (values.includes(value)) return { ok: false, error: `the card ${label} is in the deck twice` };
    values.push(value);
  }
  if (values.length === 0) return { ok: false, error: "a deck needs at least one card besides ? and ☕" };
  if (values.length > CUSTOM_LIMITS.cards) return { ok: false, error: `a deck has at most ${CUSTOM_LIMITS.cards} cards besides ? and ☕` };
  return { ok: true, deck: { name: "custom", values: [...values, ...ABSTAIN] } };
}

/** A stored deck read back (the default when missing or unreadable). */
export function deckOf(value: unknown): Deck {
  const d = value as { name?: unknown; values?: unknown } | null;
  if (typeof d !== "object" || d === null || !Array.isArray(d.values)) return DEFAULT_DECK;
  if (typeof d.name === "string" && isPreset(d.name)) return preset(d.name);
  const custom = customDeck(d.values);
  return custom.ok ? custom.deck : DEFAULT_DECK;
}

/** True when `point` is a card of `deck`. */
export function inDeck(deck: Deck, point: Point): boolean {
  return deck.values.includes(point);
}

/** The average and spread of the numeric votes (null when there is none). */
export interface Stats {
  /** The mean of the numeric votes, rounded to two decimals. */
  average: number;
  min: number;
  max: number;
  /** How many numeric votes there were. */
  count: number;
}

/** How a round came out: the card with most votes, or the tied ones (none: every vote was "?" or "☕"). */
export type Outcome = { points: Point; stats: Stats | null } | { tie: Point[]; stats: Stats | null };

/** The average and spread of the numeric votes among `votes`. */
export function stats(votes: readonly Point[]): Stats | null {
  const numbers = votes.filter((v): v is number => typeof v === "number");
  if (numbers.length === 0) return null;
  const average = Math.round((numbers.reduce((sum, n) => sum + n, 0) / numbers.length) * 100) / 100;
  return { average, min: Math.min(...numbers), max: Math.max(...numbers), count: numbers.length };
}

/**
 * The outcome of a set of votes: the card with most votes, or the tied ones in deck order;
 * "?" and "☕" are left out (all of them → a tie of none).
 */
export function tally(votes: readonly Point[], deck: Deck = DEFAULT_DECK): Outcome {
  const counted = votes.filter((v) => !ABSTAIN.includes(v));
  const summary = stats(counted);
  if (counted.length === 0) return { tie: [], stats: null };
  const counts = new Map<Point, number>();
  for (const point of counted) counts.set(point, (counts.get(point) ?? 0) + 1);
  const best = Math.max(...counts.values());
  const place = (p: Point): number => {
    const i = deck.values.indexOf(p);
    return i === -1 ? Number.MAX_SAFE_INTEGER : i;
  };
  const top = [...counts].filter(([, n]) => n === best).map(([point]) => point).sort((a, b) => place(a) - place(b));
  return top.length === 1 ? { points: top[0]!, stats: summary } : { tie: top, stats: summary };
}
