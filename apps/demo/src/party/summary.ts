/**
 * A party's estimates summary: plain text (what "Copy" puts on the clipboard) and CSV (RFC 4180
 * quoting, formula-looking cells defused for spreadsheets). One row per card of the backlog, in
 * its order, with the estimate and the average and spread of the numeric votes behind it.
 */
import type { BacklogCard } from "../db/party.js";

/** A CSV cell: quoted when needed; a leading `= + - @` is prefixed with `'` so spreadsheets show it as text. */
function cell(value: string | number): string {
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The sum of the numeric estimates. */
export function totalOf(cards: readonly BacklogCard[]): number {
  return cards.reduce((sum, c) => sum + (typeof c.estimate === "number" ? c.estimate : 0), 0);
}

/** The backlog as CSV: `position,title,description,estimate,average,min,max`. */
export function summaryCsv(cards: readonly BacklogCard[]): string {
  const rows: Array<Array<string | number>> = [["position", "title", "description", "estimate", "average", "min", "max"]];
  for (const c of cards) {
    rows.push([c.position, c.title, c.description, c.estimate ?? "", c.stats?.average ?? "", c.stats?.min ?? "", c.stats?.max ?? ""]);
  }
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** The backlog as text, one line per card: `1. Title — 5 (average 4.33, 3–5)`, then the total. */
export function summaryText(party: string, cards: readonly BacklogCard[]): string {
  const lines = [`Estimates — ${party}`];
  for (const c of cards) {
    const spread = c.stats === null ? "" : ` (average ${c.stats.average}, ${c.stats.min === c.stats.max ? c.stats.min : `${c.stats.min}–${c.stats.max}`})`;
    lines.push(`${c.position}. ${c.title.replace(/\s*\n\s*/g, " ")} — ${c.estimate ?? "not estimated"}${c.estimate === null ? "" : spread}`);
  }
  lines.push(`Total: ${totalOf(cards)} points`);
  return `${lines.join("\n")}\n`;
}

/** A file name for the CSV of `party`. */
export function summaryFilename(party: string): string {
  const safe = party.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "party";
  return `estimates-${safe}.csv`;
}
