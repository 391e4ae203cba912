// Small utilities of the harness: bounded waits, unique topics, short renderings for messages.

/** Resolves after `ms` milliseconds. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 5 ms until true, or throws after `ms` with `desc` (and `detail()` if given). */
export async function waitUntil(cond: () => boolean, ms: number, desc: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for: ${desc}${detail ? `\n${detail()}` : ""}`);
    }
    await delay(5);
  }
}

/** Races a promise against a timeout with a helpful message. */
export function within<T>(p: Promise<T>, ms: number, desc: string, detail?: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for: ${desc}${detail ? `\n${detail()}` : ""}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

let uniq = 0;
/** A fresh topic under `echo:` so tests never see each other's broadcasts. */
export function topic(name = "t"): string {
  uniq += 1;
  return `echo:${name}-${process.pid}-${uniq}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A value as (at most `max` characters of) text, for failure messages. */
export function short(v: unknown, max = 240): string {
  let s: string;
  try { s = typeof v === "string" ? v : JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}
