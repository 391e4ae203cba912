/**
 * The origin check for browser connections (docs/protocol.md §1.6). A request without an `Origin`
 * header (a non-browser client) always passes. `true` requires the origin's host to equal the
 * request's `Host`; a list allows entries such as `"https://example.com"`, `"//other.com:888"`
 * or `"//*.example.com"` (each given part — scheme, host, port — must match; `*.` matches the
 * domain and any subdomain); a function decides; `false` turns the check off.
 */
import type { IncomingMessage } from "node:http";

/** How origins are checked. */
export type OriginCheck = boolean | readonly string[] | ((origin: URL, request: IncomingMessage) => boolean);

interface OriginRule {
  scheme: string | undefined;
  host: string;
  wildcard: boolean;
  port: string | undefined;
}

const RULE = /^(?:([a-z][a-z0-9+.-]*):)?\/\/(\*\.)?([^:/]+)(?::(\d+))?\/?$/i;

function parseRule(entry: string): OriginRule {
  const match = RULE.exec(entry.trim());
  if (!match) throw new Error(`invalid checkOrigin entry "${entry}": expected e.g. "https://example.com" or "//*.example.com"`);
  return { scheme: match[1]?.toLowerCase(), wildcard: match[2] !== undefined, host: match[3]!.toLowerCase(), port: match[4] };
}

function defaultPort(scheme: string): string {
  return scheme === "https" || scheme === "wss" ? "443" : "80";
}

function matches(rule: OriginRule, origin: URL): boolean {
  const scheme = origin.protocol.replace(/:$/, "").toLowerCase();
  const host = origin.hostname.toLowerCase();
  const port = origin.port || defaultPort(scheme);
  if (rule.scheme !== undefined && rule.scheme !== scheme) return false;
  if (rule.port !== undefined && rule.port !== port) return false;
  if (rule.wildcard) return host === rule.host || host.endsWith(`.${rule.host}`);
  return host === rule.host;
}

/** Compiles an `OriginCheck` into a predicate over requests. */
export function compileOriginCheck(check: OriginCheck): (request: IncomingMessage) => boolean {
  if (check === false) return () => true;
  const evaluate = (request: IncomingMessage, decide: (origin: URL) => boolean): boolean => {
    const header = request.headers.origin;
    if (header === undefined) return true;
    let origin: URL;
    try {
      origin = new URL(header);
    } catch {
      return false;
    }
    return decide(origin);
  };
  if (check === true) {
    return (request) => evaluate(request, (origin) => {
      const host = request.headers.host;
      if (host === undefined) return false;
      try {
        return new URL(`http://${host}`).hostname.toLowerCase() === origin.hostname.toLowerCase();
      } catch {
        return false;
      }
    });
  }
  if (typeof check === "function") return (request) => evaluate(request, (origin) => check(origin, request));
  const rules = check.map(parseRule);
  return (request) => evaluate(request, (origin) => rules.some((rule) => matches(rule, origin)));
}
