/**
 * Signed tokens in Phoenix.Token's format (Plug.Crypto message verifier), so tokens signed
 * here verify in Elixir and vice versa: `"SFMyNTY." + base64url(ETF {data, signed_at_ms,
 * max_age_s}) + "." + base64url(HMAC-SHA256(key, header + "." + payload))`, with the key
 * derived by PBKDF2 from the secret and the salt.
 */
import { createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { EtfAtom, EtfTuple, decodeEtf, encodeEtf } from "./etf.js";

/** Why a token was rejected: bad signature or payload, too old, or not given at all. */
export type TokenErrorReason = "invalid" | "expired" | "missing";

/** Thrown by {@link Token.verify} when a token cannot be accepted. */
export class TokenError extends Error {
  /** The Phoenix-style reason (`:invalid`, `:expired`, `:missing`). */
  readonly reason: TokenErrorReason;

  constructor(reason: TokenErrorReason, message?: string) {
    super(message ?? `token ${reason}`);
    this.name = "TokenError";
    this.reason = reason;
  }
}

/** Digests accepted for PBKDF2 key derivation. */
export type KeyDigest = "sha256" | "sha384" | "sha512";

/** Key-derivation options shared by signing and verifying; both sides must agree. */
interface KeyOptions {
  /** PBKDF2 iterations (default 1000). */
  keyIterations?: number;
  /** Derived key length in bytes (default 32). */
  keyLength?: number;
  /** PBKDF2 digest (default `"sha256"`). */
  keyDigest?: KeyDigest;
}

/** Options for {@link Token.sign}. */
export interface SignOptions extends KeyOptions {
  /** Seconds the token stays valid, embedded in it (default 86 400; `Infinity` = forever). */
  maxAge?: number;
  /** Signing time in seconds since the epoch (default: now). */
  signedAt?: number;
}

/** Options for {@link Token.verify}. */
export interface VerifyOptions extends KeyOptions {
  /** Maximum age in seconds, overriding the one embedded at signing; `Infinity` = never expires. */
  maxAge?: number;
}

const DEFAULT_MAX_AGE = 86_400;
const MIN_SECRET_BYTES = 20;
const KEY_CACHE_SIZE = 32;
/** Header written when signing: base64url("HS256"). */
const SIGN_HEADER = "SFMyNTY";
/** Accepted headers and the HMAC digest each one names. */
const HEADERS: ReadonlyMap<string, KeyDigest> = new Map([
  ["SFMyNTY", "sha256"],
  ["SFMzODQ", "sha384"],
  ["SFM1MTI", "sha512"],
]);
const BASE64URL = /^[A-Za-z0-9_-]*$/;

const keyCache = new Map<string, Buffer>();

function checkSecret(secret: unknown, salt: unknown): asserts secret is string {
  if (typeof secret !== "string") throw new TypeError("secret must be a string");
  if (typeof salt !== "string") throw new TypeError("salt must be a string");
  if (Buffer.byteLength(secret, "utf8") < MIN_SECRET_BYTES) {
    throw new Error(`secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive integer`);
  return value;
}

/** Derives (and caches, LRU-bounded) the PBKDF2 key for a secret/salt pair. */
function deriveKey(secret: string, salt: string, opts: KeyOptions): Buffer {
  const iterations = positiveInt(opts.keyIterations, 1000, "keyIterations");
  const length = positiveInt(opts.keyLength, 32, "keyLength");
  const digest = opts.keyDigest ?? "sha256";
  if (digest !== "sha256" && digest !== "sha384" && digest !== "sha512") {
    throw new TypeError("keyDigest must be sha256, sha384 or sha512");
  }
  const cacheKey = JSON.stringify([digest, iterations, length, secret, salt]);
  const cached = keyCache.get(cacheKey);
  if (cached !== undefined) {
    keyCache.delete(cacheKey);
    keyCache.set(cacheKey, cached);
    return cached;
  }
  const key = pbkdf2Sync(secret, salt, iterations, length, digest);
  if (keyCache.size >= KEY_CACHE_SIZE) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  keyCache.set(cacheKey, key);
  return key;
}

function mac(digest: KeyDigest, key: Buffer, signingInput: string): string {
  return createHmac(digest, key).update(signingInput, "utf8").digest("base64url");
}

function checkMaxAge(maxAge: number, name: string): void {
  if (typeof maxAge !== "number" || Number.isNaN(maxAge) || maxAge === -Infinity) {
    throw new TypeError(`${name} must be a number of seconds or Infinity`);
  }
}

/** Marker for the outermost decoded tuple, to tell it from a list. */
class OuterTuple {
  constructor(readonly elements: unknown[]) {}
}

/** Extracts `{data, signedAtMs, maxAgeS}` from the decoded plaintext, or throws invalid. */
function unpack(term: unknown): { data: unknown; signed: number; maxAge: number } {
  let data: unknown;
  let signed: unknown;
  let maxAge: unknown = DEFAULT_MAX_AGE;
  if (term instanceof OuterTuple && (term.elements.length === 3 || term.elements.length === 2)) {
    [data, signed] = term.elements;
    if (term.elements.length === 3) maxAge = term.elements[2];
  } else if (
    typeof term === "object" && term !== null && !(term instanceof OuterTuple) &&
    Object.hasOwn(term, "data") && Object.hasOwn(term, "signed")
  ) {
    // Legacy Phoenix format: %{data: data, signed: signed}.
    ({ data, signed } = term as { data: unknown; signed: unknown });
  } else {
    throw new TokenError("invalid", "token payload has an unknown shape");
  }
  if (typeof signed !== "number" || !Number.isFinite(signed)) {
    throw new TokenError("invalid", "token signing time is not a number");
  }
  if (maxAge === "infinity") maxAge = Infinity;
  if (typeof maxAge !== "number" || Number.isNaN(maxAge)) {
    throw new TokenError("invalid", "token max age is not a number");
  }
  return { data, signed, maxAge };
}

/** Phoenix.Token-compatible signing and verification. */
export const Token = {
  /**
   * Signs `data` (any value the ETF codec can encode: strings, numbers, bigints, booleans,
   * null, arrays, plain objects) with a key derived from `secret` (≥ 20 bytes) and `salt`.
   * Returns a token Phoenix.Token.verify/4 accepts with the same secret_key_base and salt.
   */
  sign(secret: string, salt: string, data: unknown, opts: SignOptions = {}): string {
    checkSecret(secret, salt);
    const maxAge = opts.maxAge ?? DEFAULT_MAX_AGE;
    checkMaxAge(maxAge, "maxAge");
    const signedAtMs = opts.signedAt === undefined ? Date.now() : Math.trunc(opts.signedAt * 1000);
    if (!Number.isSafeInteger(signedAtMs)) throw new TypeError("signedAt must be a finite number of seconds");
    const key = deriveKey(secret, salt, opts);
    const maxAgeTerm = maxAge === Infinity ? new EtfAtom("infinity") : maxAge;
    const plaintext = encodeEtf(new EtfTuple([data, signedAtMs, maxAgeTerm]));
    const signingInput = `${SIGN_HEADER}.${plaintext.toString("base64url")}`;
    return `${signingInput}.${mac("sha256", key, signingInput)}`;
  },

  /**
   * Verifies a token produced by {@link Token.sign} or Phoenix.Token.sign/4 and returns its
   * data. Throws {@link TokenError} with reason `missing` (null, undefined or empty token),
   * `invalid` (bad format, signature, payload, or a signing time in the future) or
   * `expired` (older than the effective max age). Throws a plain `Error` for a bad secret.
   */
  verify<T = unknown>(
    secret: string,
    salt: string,
    token: string | null | undefined,
    opts: VerifyOptions = {},
  ): T {
    checkSecret(secret, salt);
    if (opts.maxAge !== undefined) checkMaxAge(opts.maxAge, "maxAge");
    if (token === null || token === undefined || token === "") throw new TokenError("missing");
    if (typeof token !== "string") throw new TokenError("invalid", "token is not a string");
    const parts = token.split(".");
    if (parts.length !== 3) throw new TokenError("invalid", "token does not have three parts");
    const [header, payload, signature] = parts as [string, string, string];
    const digest = HEADERS.get(header);
    if (digest === undefined) throw new TokenError("invalid", "unknown token header");
    if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) {
      throw new TokenError("invalid", "token is not base64url");
    }
    const key = deriveKey(secret, salt, opts);
    // Compare the canonical encodings, so non-canonical spellings of the MAC are rejected.
    const expected = Buffer.from(mac(digest, key, `${header}.${payload}`), "latin1");
    const given = Buffer.from(signature, "latin1");
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new TokenError("invalid", "bad token signature");
    }

    let term: unknown;
    try {
      term = decodeEtf(Buffer.from(payload, "base64url"), {
        tuple: (elements, depth) => (depth === 0 ? new OuterTuple(elements) : elements),
      });
    } catch (err) {
      throw new TokenError("invalid", `bad token payload: ${(err as Error).message}`);
    }
    const { data, signed, maxAge: embedded } = unpack(term);
    const maxAge = opts.maxAge ?? embedded;
    const now = Date.now();
    if (signed > now) throw new TokenError("invalid", "token signed in the future");
    if (maxAge === Infinity) return data as T;
    if (maxAge <= 0 || signed + Math.trunc(maxAge * 1000) < now) throw new TokenError("expired");
    return data as T;
  },
};
