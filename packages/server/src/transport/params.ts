/**
 * Connect params from a query string, as Phoenix (Plug) reads them: the last of duplicate keys
 * wins, and `parent[child]=v` nests. Objects have no prototype, so keys such as `__proto__`
 * are plain data.
 */
import type { ConnectParams } from "../socket/index.js";

/** Parses a query string (without the `?`) into connect params. */
export function parseParams(query: string): ConnectParams {
  const params: ConnectParams = Object.create(null) as ConnectParams;
  for (const [rawKey, value] of new URLSearchParams(query)) {
    const parts = rawKey.split("[").map((part, i) => (i === 0 ? part : part.replace(/\]$/, "")));
    const path = parts.filter((part, i) => i === 0 || part.length > 0);
    if (path.length === 0 || path[0] === "") continue;
    let node = params;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!;
      const next = node[key];
      if (typeof next === "object") node = next;
      else {
        const child: ConnectParams = Object.create(null) as ConnectParams;
        node[key] = child;
        node = child;
      }
    }
    node[path[path.length - 1]!] = value;
  }
  return params;
}
