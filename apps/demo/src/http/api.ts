/**
 * The JSON API: accounts (`POST /api/users`, `POST /api/session`, `DELETE /api/session`),
 * videos, pointing-party cards, and the admin back office (broadcast, notify, disconnect).
 * Calls that need a user take `Authorization: Bearer <token>` or the session cookie; without a
 * valid one they answer 401, and admin calls from non-admins 403. Bad input answers 4xx `{error}`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  newSessionId, readCredentials, sessionSocketId, signedOutMessage, signIn, signToken, signUp, TOKEN_MAX_AGE, verifyToken, type TokenClaims,
} from "../accounts.js";
import { usernameKey, type RevokedBy, type Store, type User } from "../db/store.js";

export { signedOutMessage } from "../accounts.js";
import { ALL } from "../channels/notifications.js";
import { cookie, HttpError, json, parseId, readJson } from "./respond.js";
import type { Router } from "./router.js";
import { addPartyRoutes } from "./party-api.js";
import { checkText } from "../text.js";
import type { SignInThrottle } from "../throttle.js";

/** The session cookie's name. */
export const SESSION_COOKIE = "cinder_token";

/** What the API needs. */
export interface ApiContext {
  store: Store;
  secret: string;
  admins: ReadonlySet<string>;
  broadcast(topic: string, event: string, payload: unknown): void;
  disconnect(socketId: string): void;
  /** Sign-in attempts per account and address. */
  throttle: SignInThrottle;
}

/** The signed token of a request (Bearer header first, then the cookie). */
export function requestToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match?.[1];
  }
  return cookie(request, SESSION_COOKIE);
}

/** A request's session: its user and claims, or (for a signed token of a closed session) why it closed. */
export type RequestSession =
  | { ok: true; user: User; claims: TokenClaims }
  | { ok: false; revokedBy: RevokedBy | "unknown" | undefined };

/** The session of a request: its session token (Bearer or cookie), checked against the store. */
export async function requestSession(context: Pick<ApiContext, "secret" | "store">, request: IncomingMessage): Promise<RequestSession> {
  const claims = verifyToken(context.secret, "session", requestToken(request));
  if (claims === null) return { ok: false, revokedBy: undefined };
  const state = await context.store.session(claims.sessionId, claims.userId);
  return state.ok ? { ok: true, user: state.user, claims } : { ok: false, revokedBy: state.revokedBy };
}

/** The signed-in user of a request, if any. */
export async function currentUser(context: Pick<ApiContext, "secret" | "store">, request: IncomingMessage): Promise<User | undefined> {
  const session = await requestSession(context, request);
  return session.ok ? session.user : undefined;
}

function sessionCookie(token: string, maxAge: number): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`;
}

function text(value: unknown, field: string, min: number, max: number): string {
  const checked = checkText(value, { name: field, min, max });
  if (!checked.ok) throw new HttpError(400, checked.error);
  return checked.value;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "body must be a JSON object");
  return body as Record<string, unknown>;
}

/** A playable video URL: a YouTube link or a direct http(s) URL (or a path on this server). */
export function videoUrl(value: unknown): string {
  const raw = text(value, "url", 1, 2000);
  if (raw.startsWith("/") && !raw.startsWith("//")) return raw;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HttpError(400, "url must be a YouTube link or a direct video URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new HttpError(400, "url must be http or https");
  return url.toString();
}

/** Registers the API routes. */
export function addApiRoutes(router: Router, context: ApiContext): void {
  const { store, secret, admins } = context;
  const requireSession = async (request: IncomingMessage): Promise<{ user: User; claims: TokenClaims }> => {
    const session = await requestSession(context, request);
    if (!session.ok) throw new HttpError(401, signedOutMessage(session.revokedBy));
    return session;
  };
  const requireUser = async (request: IncomingMessage): Promise<User> => (await requireSession(request)).user;
  const requireAdmin = async (request: IncomingMessage): Promise<User> => {
    const user = await requireUser(request);
    if (!admins.has(user.username)) throw new HttpError(403, "admins only");
    return user;
  };
  const signedIn = async (response: ServerResponse, status: number, user: User): Promise<void> => {
    const sessionId = newSessionId();
    await store.openSession(sessionId, user.id);
    const token = signToken(secret, "session", { userId: user.id, sessionId });
    json(response, status, { token, user }, { "set-cookie": sessionCookie(token, TOKEN_MAX_AGE) });
  };

  router.add("POST", "/api/users", async (request, response) => {
    const credentials = readCredentials(await readJson(request));
    if (!credentials.ok) throw new HttpError(422, credentials.error);
    if ([...admins].some((name) => usernameKey(name) === usernameKey(credentials.username))) {
      throw new HttpError(403, "that username is reserved for administrators");
    }
    const user = await signUp(store, credentials.username, credentials.password);
    if (user === null) throw new HttpError(409, "that username is taken");
    await signedIn(response, 201, user);
  });

  router.add("POST", "/api/session", async (request, response) => {
    const credentials = readCredentials(await readJson(request));
    if (!credentials.ok) throw new HttpError(422, credentials.error);
    // Throttled before hashing: a refused attempt costs no scrypt.
    const account = usernameKey(credentials.username);
    const verdict = context.throttle.attempt(account, request.socket.remoteAddress ?? "unknown");
    if (!verdict.ok) {
      const what = verdict.scope === "account" ? "for this account" : "from your address";
      json(response, 429, { error: `too many sign-in attempts ${what}; try again in ${verdict.retryAfterS} s`, retry_after: verdict.retryAfterS },
        { "retry-after": String(verdict.retryAfterS) });
      return;
    }
    const user = await signIn(store, credentials.username, credentials.password);
    if (user === null) throw new HttpError(401, "wrong username or password");
    context.throttle.succeeded(account);
    await signedIn(response, 200, user);
  });

  // Sign-out revokes the session server-side: its cookie, Bearer and socket tokens stop working,
  // and this session's open sockets are closed (socket id `session:<id>`); the user's other
  // sessions (another browser, another device) stay connected and signed in.
  router.add("DELETE", "/api/session", async (request, response) => {
    const session = await requestSession(context, request);
    if (session.ok) {
      await store.revokeSession(session.claims.sessionId, "user");
      context.disconnect(sessionSocketId(session.claims.sessionId));
    }
    json(response, 200, { ok: true }, { "set-cookie": sessionCookie("", 0) });
  });

  router.add("GET", "/api/me", async (request, response) => {
    const user = await requireUser(request);
    json(response, 200, { user, admin: admins.has(user.username) });
  });

  /** The socket token of this session, for a page's script (the cookie stays HttpOnly). */
  router.add("GET", "/api/socket-token", async (request, response) => {
    const { claims } = await requireSession(request);
    json(response, 200, { token: signToken(secret, "socket", claims) });
  });

  router.add("GET", "/api/videos", async (request, response) => {
    await requireUser(request);
    json(response, 200, { videos: await store.videos() });
  });

  router.add("GET", "/api/videos/:id", async (request, response, params) => {
    await requireUser(request);
    const id = parseId(params.id);
    const video = id === undefined ? undefined : await store.video(id);
    if (video === undefined) throw new HttpError(404, "no such video");
    json(response, 200, video);
  });

  router.add("POST", "/api/videos", async (request, response) => {
    const user = await requireUser(request);
    const body = object(await readJson(request));
    const video = await store.addVideo(text(body.title, "title", 1, 200), videoUrl(body.url), user.id);
    json(response, 201, video);
  });

  addPartyRoutes(router, { store, broadcast: context.broadcast, requireUser, text, object });

  router.add("POST", "/api/admin/broadcast", async (request, response) => {
    await requireAdmin(request);
    const body = object(await readJson(request));
    const message = { body: text(body.body, "body", 1, 1000), at: Date.now() };
    context.broadcast(ALL, "new_msg", message);
    json(response, 200, { ok: true, sent: message });
  });

  /** The user an admin call names in `body.username` (404 when there is none). */
  const targetUser = async (body: Record<string, unknown>): Promise<User> => {
    const target = await store.userByName(text(body.username, "username", 1, 32));
    if (target === undefined) throw new HttpError(404, "no such user");
    return target;
  };

  router.add("POST", "/api/admin/notify", async (request, response) => {
    await requireAdmin(request);
    const body = object(await readJson(request));
    const target = await targetUser(body);
    const message = { body: text(body.body, "body", 1, 1000), at: Date.now() };
    context.broadcast(`notifications:user:${target.id}`, "new_msg", message);
    json(response, 200, { ok: true, sent: message });
  });

  router.add("POST", "/api/admin/disconnect", async (request, response) => {
    await requireAdmin(request);
    const target = await targetUser(object(await readJson(request)));
    // every session of the user is revoked, and each one's sockets closed
    const revoked = await store.revokeUserSessions(target.id, "admin");
    for (const sessionId of revoked) context.disconnect(sessionSocketId(sessionId));
    json(response, 200, { ok: true, sessions: revoked.length });
  });
}
