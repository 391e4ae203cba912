/**
 * Text the apps store: one rule for every user-supplied text field, on SQLite and PostgreSQL
 * alike. A NUL character (PostgreSQL cannot store it in TEXT) and a lone UTF-16 surrogate (each
 * engine would store it altered) are refused with a clear message, never stored or dropped.
 * `textProblem` is the plain check; `safeText` is the same rule as a zod string schema for
 * channel payloads.
 */
import { z } from "zod";

/** Why `value` cannot be stored as text, or undefined when it can. */
export function textProblem(value: string): string | undefined {
  if (value.includes("\u0000")) return "must not contain a NUL character";
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) return "must not contain an unpaired surrogate (invalid Unicode)";
  return undefined;
}

/** Bounds of a text field: length after trimming, and what to call it in messages. */
export interface TextRule {
  /** What the field is called in error messages ("a message", "title"). */
  name: string;
  min: number;
  max: number;
}

/** A checked text value, or why it is refused. */
export type TextResult = { ok: true; value: string } | { ok: false; error: string };

/** Checks and trims `value` against `rule`. */
export function checkText(value: unknown, rule: TextRule): TextResult {
  if (typeof value !== "string") return { ok: false, error: `${rule.name} must be a string` };
  const problem = textProblem(value);
  if (problem !== undefined) return { ok: false, error: `${rule.name} ${problem}` };
  const trimmed = value.trim();
  if (trimmed.length < rule.min) return { ok: false, error: rule.min === 1 ? `${rule.name} cannot be empty` : `${rule.name} must be at least ${rule.min} characters` };
  if (trimmed.length > rule.max) return { ok: false, error: `${rule.name} must be at most ${rule.max} characters` };
  return { ok: true, value: trimmed };
}

/** A zod string schema refusing NUL and lone surrogates (then `.trim().min().max()` as usual). */
export function safeText(name = "text"): z.ZodString {
  return z.string().refine((value) => textProblem(value) === undefined, { message: `${name} must not contain a NUL character or invalid Unicode` });
}
