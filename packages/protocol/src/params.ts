/**
 * Connect params and the auth token, as they ride on the handshake (docs/protocol.md §1.2, §1.5):
 * params as a query string in phoenix.js's encoding (`a[b]=c`, `list[0]=x`, a null value as an
 * empty segment), read back as Phoenix (Plug) reads them; the `authToken` as a subprotocol.
 */
import { base64ToBytes, bytesToBase64, utf8Decode, utf8Encode } from "./bytes.js";
import { AUTH_TOKEN_PREFIX } from "./events.js";

/** Connect params as the server reads them: strings, nested by `parent[child]`. */
export interface ConnectParams {
  [key: string]: string | ConnectParams;
}

/** Encodes params as a query string: nested objects as `parent[child]=v`, arrays as `key[0]=v`. */
export function encodeParams(params: object, parentKey?: string): string {
  const parts: string[] = [];
  for (const key of Object.keys(params)) {
    const name = parentKey === undefined ? key : `${parentKey}[${key}]`;
    const value: unknown = (params as Record<string, unknown>)[key];
    if (value === null) parts.push("");
    else if (typeof value === "object") parts.push(encodeParams(value, name));
    else parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  }
  return parts.join("&");
}

/**
 * Reads a query string (without the `?`) into connect params: the last of duplicate keys wins,
 * and `parent[child]=v` nests. Objects have no prototype, so keys such as `__proto__` are data.
 */
export function decodeParams(query: string): ConnectParams {
  const params = Object.create(null) as ConnectParams;
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
        const child = Object.create(null) as ConnectParams;
        node[key] = child;
        node = child;
      }
    }
    node[path[path.length - 1]!] = value;
  }
  return params;
}

/** The subprotocol carrying `token`: the prefix, then the token's UTF-8 in unpadded base64. */
export function authTokenProtocol(token: string): string {
  return `${AUTH_TOKEN_PREFIX}${bytesToBase64(utf8Encode(token)).replace(/=+$/, "")}`;
}

/** The token in offered subprotocols (a list, or a comma-separated header), or undefined when none carries one. */
export function readAuthToken(protocols: string | readonly string[] | undefined): string | undefined {
  const list = protocols === undefined ? [] : typeof protocols === "string" ? protocols.split(",") : protocols;
  for (const entry of list) {
    const protocol = entry.trim();
    if (!protocol.startsWith(AUTH_TOKEN_PREFIX)) continue;
    try {
      return utf8Decode(base64ToBytes(protocol.slice(AUTH_TOKEN_PREFIX.length)));
    } catch {
      return undefined; // not base64: no token
    }
  }
  return undefined;
}
