/**
 * URL building: phoenix.js's query-string encoding of params (`a[b]=c`, `list[0]=x`, a null
 * value as an empty segment) and resolution of relative endpoints against `location`.
 */
import { encodeParams } from "@cinder/protocol";

/** Encodes params as a query string: nested objects as `parent[child]=v`, arrays as `key[0]=v`. */
export const serializeParams: (params: object, parentKey?: string) => string = encodeParams;

/** Appends params to a URL (`?` or `&`); returns the URL unchanged when there are none. */
export function appendParams(url: string, params: object): string {
  if (Object.keys(params).length === 0) return url;
  const prefix = url.includes("?") ? "&" : "?";
  return `${url}${prefix}${serializeParams(params)}`;
}

/** The page's `location`, in browsers. */
function pageLocation(): { protocol: string; host: string } | undefined {
  const loc = (globalThis as { location?: { protocol?: unknown; host?: unknown } }).location;
  if (loc && typeof loc.protocol === "string" && typeof loc.host === "string") return { protocol: loc.protocol, host: loc.host };
  return undefined;
}

/**
 * Makes a WebSocket URL absolute: `"/socket..."` → `ws(s)://<page host>/socket...`,
 * `"//host/socket..."` → `ws(s)://host/socket...`. Absolute URLs are returned unchanged.
 */
export function absoluteSocketUrl(url: string): string {
  if (!url.startsWith("/")) return url;
  const loc = pageLocation();
  if (loc === undefined) throw new Error(`relative endpoint "${url}" needs a page location; pass an absolute ws:// URL outside browsers`);
  const scheme = loc.protocol.startsWith("https") ? "wss" : "ws";
  return url.startsWith("//") ? `${scheme}:${url}` : `${scheme}://${loc.host}${url}`;
}
