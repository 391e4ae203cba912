/**
 * The one validator for user-written text the apps store: trimmed, within a length, and storable
 * the same way on SQLite and PostgreSQL — so no NUL character (PostgreSQL refuses it) and no
 * lone surrogate (`\ud800`; each database would store it altered). Such text is refused with a
 * clear message, never stored changed or lost.
 */
import { z } from "zod";

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `value` cannot be stored as text, or undefined when it can. */
export function unstorable(value: string): string | undefined {
  if (value.includes("\u0000")) return "text cannot contain NUL characters";
  if (LONE_SURROGATE.test(value)) return "text cannot contain lone surrogates (broken Unicode)";
  return undefined;
}

/** Adds the storable-text check to a string schema (its trimming and length rules stay its own). */
export function storable(schema: z.ZodString): z.ZodString {
  return schema.superRefine((value, context) => {
    const problem = unstorable(value);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
  });
}
