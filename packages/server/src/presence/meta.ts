/**
 * Metas as presence stores them: a user's meta is checked (a plain JSON object within the size
 * limit) and copied once, with a fresh `phx_ref` (and, after an update, `phx_ref_prev`), into a
 * frozen object the tracker state adopts as it is. Refusals are returned as values.
 */
import { randomBytes } from "node:crypto";
import type { Meta } from "./state.js";

const BOOT = randomBytes(6);
let refCounter = 0;

/** A fresh, unique `phx_ref`: 16 URL-safe characters. */
export function newRef(): string {
  const bytes = Buffer.allocUnsafe(12);
  BOOT.copy(bytes, 0);
  bytes.writeUIntBE(++refCounter % 2 ** 48, 6, 6);
  return bytes.toString("base64url");
}

/** A stored meta, or why a meta was refused. */
export type StampResult =
  | { readonly ok: true; readonly meta: Meta }
  | { readonly ok: false; readonly reason: "invalid_meta" | "meta_too_large"; readonly message: string; readonly bytes?: number };

/**
 * Checks `meta` and returns the frozen copy to store: the user's fields (any `phx_ref` /
 * `phx_ref_prev` of theirs dropped) plus `phx_ref: ref` and, when given, `phx_ref_prev`.
 */
export function stampMeta(meta: unknown, ref: string, limit: number, previous?: string): StampResult {
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    return { ok: false, reason: "invalid_meta", message: "presence meta must be a plain object" };
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(meta));
  } catch {
    return { ok: false, reason: "invalid_meta", message: "presence meta must be JSON" };
  }
  if (size > limit) return { ok: false, reason: "meta_too_large", message: `presence meta is ${size} bytes; the limit is ${limit}`, bytes: size };
  const { phx_ref: _ref, phx_ref_prev: _prev, ...fields } = meta as Record<string, unknown>;
  return { ok: true, meta: Object.freeze(previous === undefined ? { ...fields, phx_ref: ref } : { ...fields, phx_ref: ref, phx_ref_prev: previous }) };
}

/** The user's fields of a stored meta (what `update(fn)` hands to `fn`) and its `phx_ref`. */
export function userFields(stored: Meta): { fields: Meta; ref: string | undefined } {
  const { phx_ref: ref, phx_ref_prev: _prev, ...fields } = stored as Meta & { phx_ref?: unknown; phx_ref_prev?: unknown };
  return { fields, ref: typeof ref === "string" ? ref : undefined };
}
