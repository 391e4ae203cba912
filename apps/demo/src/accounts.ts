/**
 * Accounts: credentials checking, password hashing (scrypt, salted, deliberately slow, on its own
 * worker threads: hash-workers.ts) and the
 * signed tokens of a server-side session. Signing in opens a session (a row in `sessions`); its
 * *session token* is the HttpOnly cookie (and, for API clients, the Bearer token), and its
 * *socket token* — the only token a page's script sees — authenticates the socket and nothing
 * else. Both name the session, and both stop working the moment it is revoked (sign-out, or an
 * admin's disconnect), however long their signature would still be valid (two weeks).
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { Token, TokenError } from "@cinder/server";
import type { RevokedBy, Store, User } from "./db/store.js";
import { HashWorkers } from "./hash-workers.js";
import { Limiter } from "./throttle.js";

/** How long a user token is valid: two weeks, in seconds. */
export const TOKEN_MAX_AGE = 14 * 24 * 60 * 60;
/** Which token: the session's (cookie / Bearer, for HTTP) or the socket's (the page's script). */
export type TokenKind = "session" | "socket";
const SALTS: Record<TokenKind, string> = { session: "user session", socket: "user socket" };

/** What a valid token names: a user and one of their sessions. */
export interface TokenClaims {
  userId: number;
  sessionId: string;
}
const USERNAME = /^[A-Za-z0-9_-]{1,32}$/;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

/** Valid credentials, or why they are not. */
export type Credentials = { ok: true; username: string; password: string } | { ok: false; error: string };

/** Checks a sign-up / sign-in body. */
export function readCredentials(body: unknown): Credentials {
  const { username: raw, password } = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  // NFKC first, so "ａｄｍｉｎ" (fullwidth) is read as "admin" and checked as such.
  const username = typeof raw === "string" ? raw.normalize("NFKC") : raw;
  if (typeof username !== "string" || !USERNAME.test(username)) {
    return { ok: false, error: "username must be 1–32 letters, digits, _ or -" };
  }
  if (typeof password !== "string" || password.length < 8) return { ok: false, error: "password must be at least 8 characters" };
  if (password.length > 1024) return { ok: false, error: "password must be at most 1024 characters" };
  return { ok: true, username, password };
}

/** Password hashing runs at most this many scrypt computations at once (HASH_CONCURRENCY; 2). */
export const hashing = new Limiter(2);

/** The threads hashes run on (one per hash in flight, up to `hashing.concurrency`; off libuv's pool). */
export const hashWorkers = new HashWorkers(hashing.concurrency);

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return hashing.run(() => {
    hashWorkers.size = hashing.concurrency;
    return hashWorkers.scrypt({ password, salt, keylen: params.keylen, N: params.N, r: params.r, p: params.p, maxmem: 64 * 1024 * 1024 });
  });
}

/** Hashes a password: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Checks a password against a stored hash, in constant time. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(password, Buffer.from(salt, "base64url"), { N: Number(n), r: Number(r), p: Number(p), keylen: expected.length });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A dummy hash, verified when a username is unknown so both paths take the same time. */
let dummyHash: Promise<string> | undefined;

/** Signs up; returns the user, or null when the username is taken. */
export async function signUp(store: Store, username: string, password: string): Promise<User | null> {
  return store.createUser(username, await hashPassword(password));
}

/** Signs in; returns the user, or null for a wrong username or password. */
export async function signIn(store: Store, username: string, password: string): Promise<User | null> {
  const found = await store.userWithHash(username);
  if (found === undefined) {
    dummyHash ??= hashPassword("not a real password");
    await verifyPassword(password, await dummyHash);
    return null;
  }
  return (await verifyPassword(password, found.passwordHash)) ? { id: found.id, username: found.username } : null;
}

/** The signed token of `kind` for a session. */
export function signToken(secret: string, kind: TokenKind, claims: TokenClaims): string {
  return Token.sign(secret, SALTS[kind], { u: claims.userId, s: claims.sessionId }, { maxAge: TOKEN_MAX_AGE });
}

/**
 * The claims of a token of `kind`, or null when it is missing, tampered, expired or of the other
 * kind. (Whether the session is still open is the store's to say.)
 */
export function verifyToken(secret: string, kind: TokenKind, token: unknown): TokenClaims | null {
  if (typeof token !== "string") return null;
  try {
    const claims = Token.verify<unknown>(secret, SALTS[kind], token, { maxAge: TOKEN_MAX_AGE });
    if (typeof claims !== "object" || claims === null) return null;
    const { u, s } = claims as Record<string, unknown>;
    return typeof u === "number" && Number.isSafeInteger(u) && typeof s === "string" && s.length > 0 ? { userId: u, sessionId: s } : null;
  } catch (error) {
    if (error instanceof TokenError) return null;
    throw error;
  }
}

/**
 * The socket id of a session's sockets (`session:<id>`): every socket a session opens (each tab
 * of one browser) has it, so sign-out closes that session's sockets and no other session's;
 * an admin's disconnect closes each revoked session's.
 */
export function sessionSocketId(sessionId: string): string {
  return `session:${sessionId}`;
}

/** What a 401 (or a refused socket, or a refused push) says when a token's session was closed. */
export function signedOutMessage(revokedBy: RevokedBy | "unknown" | undefined): string {
  if (revokedBy === "admin") return "You were signed out by an administrator";
  if (revokedBy === "user") return "You signed out; sign in again";
  if (revokedBy === "unknown") return "Your session has ended; sign in again";
  return "You are not signed in: sign in first (API clients: send Authorization: Bearer <token>)";
}

/** A new random session id. */
export function newSessionId(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * The admin bootstrap: creates the account `username` with `password` when it does not exist;
 * an existing account is kept as it is. Returns whether it was created.
 */
export async function ensureAccount(store: Store, username: string, password: string): Promise<boolean> {
  if (await store.userByName(username) !== undefined) return false;
  return (await signUp(store, username, password)) !== null;
}
