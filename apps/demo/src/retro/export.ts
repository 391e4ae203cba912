/**
 * The result of a retro as a document: Markdown (one section per column, ideas by votes, then
 * the action items with their owners) or CSV (one row per idea and per action item, quoted as
 * RFC 4180 says, with formula-looking cells defused for spreadsheets).
 */
import { COLUMNS, type Board, type Column, type Idea } from "./board.js";

/** The export formats. */
export type ExportFormat = "markdown" | "csv";

/** Ideas of a column, most votes first (then oldest first). */
function ranked(ideas: readonly Idea[], column: Column): Idea[] {
  return ideas.filter((idea) => idea.column === column).sort((a, b) => b.votes - a.votes || a.id - b.id);
}

/** One line of Markdown text: no line breaks, leading markup escaped. */
function line(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/^([#>*+\-]|\d+\.)/, "\\$1");
}

/** The board as Markdown. */
export function toMarkdown(room: string, board: Board): string {
  const out = [`# Retro: ${line(room)}`, ""];
  for (const [column, heading] of Object.entries(COLUMNS) as Array<[Column, string]>) {
    out.push(`## ${heading}`, "");
    const ideas = ranked(board.ideas, column);
    if (ideas.length === 0) out.push("_Nothing here._");
    for (const idea of ideas) out.push(`- ${line(idea.body)} (${idea.votes} ${idea.votes === 1 ? "vote" : "votes"}, ${idea.author})`);
    out.push("");
  }
  out.push("## Action items", "");
  if (board.actions.length === 0) out.push("_No action items._");
  for (const action of board.actions) out.push(`- [ ] ${line(action.body)} — ${action.owner ?? "unassigned"}`);
  return `${out.join("\n")}\n`;
}

/** A CSV cell: quoted when needed; a leading `= + - @` is prefixed with `'` so spreadsheets show it as text. */
function cell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The board as CSV: `type,column,text,votes,author,owner`. */
export function toCsv(board: Board): string {
  const rows: Array<Array<string | number>> = [["type", "column", "text", "votes", "author", "owner"]];
  for (const column of Object.keys(COLUMNS) as Column[]) {
    for (const idea of ranked(board.ideas, column)) rows.push(["idea", COLUMNS[column], idea.body, idea.votes, idea.author, ""]);
  }
  for (const action of board.actions) rows.push(["action", "", action.body, "", action.author, action.owner ?? ""]);
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** A file name for the export of `room`. */
export function exportFilename(room: string, format: ExportFormat): string {
  const safe = room.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "retro";
  return `retro-${safe}.${format === "markdown" ? "md" : "csv"}`;
}
