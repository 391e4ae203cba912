/**
 * Plain-text tables and number formatting for the benchmark's console output.
 */

/** Renders rows as an aligned plain-text table: first column left-aligned, the others right-aligned. */
export function table(title: string, header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? "").length)));
  const line = (row: string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [title, line(header), rule, ...cells.slice(1).map(line)].join("\n");
}

/** An integer with thousands separators: 1234567 → "1,234,567". */
export function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** A number with `digits` decimals (and separators). */
export function fixed(value: number, digits = 1): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Bytes in MiB with one decimal. */
export function mib(bytes: number): string {
  return `${fixed(bytes / 1024 / 1024, 1)} MiB`;
}

/** Milliseconds as "123 ms" below 10 s, else "12.3 s". */
export function duration(ms: number): string {
  return ms < 10_000 ? `${fixed(ms, ms < 100 ? 1 : 0)} ms` : `${fixed(ms / 1000, 1)} s`;
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
