/**
 * The headers every HTML page carries, as a browser app should send them: a Content-Security-
 * Policy allowing only this origin's scripts (plus the page's own inline scripts, by a per-response
 * nonce), no framing (`frame-ancestors 'none'` and `X-Frame-Options: DENY`), `nosniff`, and a
 * strict referrer policy.
 */
import { randomBytes } from "node:crypto";

/** A fresh nonce for one response's inline scripts. */
export function newNonce(): string {
  return randomBytes(16).toString("base64");
}

/** The security headers of an HTML page whose inline scripts carry `nonce`. */
export function pageHeaders(nonce: string): Record<string, string> {
  return {
    "content-security-policy": [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}' https://www.youtube.com https://s.ytimg.com`,
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data: https:",
      "media-src 'self' https: http:",
      "frame-src https://www.youtube.com https://www.youtube-nocookie.com",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "cross-origin-opener-policy": "same-origin",
  };
}
