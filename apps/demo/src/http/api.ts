/**
 * The JSON API: accounts (`POST /api/users`, `POST /api/session`, `DELETE /api/session`),
 * videos, pointing-party cards, and the admin back office (broadcast, notify, disconnect).
 * Calls that need a user take `Authorization: Bearer <token>` or the session cookie; without a
 * valid one they answer 401, and admin calls from non-admins 403. Bad input answers 4xx `{error}`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { readCredentials, signIn, signUp, TOKEN_MAX_AGE, userToken, verifyUserToken } from "../accounts.js";
import type { Store, User } from "../db/store.js";
import { ALL } from "../channels/notifications.js";
import { partyCards, tableCard } from "../channels/party.js";
import { cookie, HttpError, json, parseId, readJson } from "./respond.js";
import type { Router } from "./router.js";
import { checkText } from "../text.js";

/** The session cookie's name. */
export const SESSION_COOKIE = "cinder_token";

/** What the API needs. */
export interface ApiContext {
  store: Store;
  secret: string;
  admins: ReadonlySet<string>;
  broadcast(topic: string, event: string, payload: unknown): void;
  disconnect(socketId: string): void;
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

/** The signed-in user of a request, if any. */
export async function currentUser(context: ApiContext, request: IncomingMessage): Promise<User | undefined> {
  const id = verifyUserToken(context.secret, requestToken(request));
  return id === null ? undefined : context.store.user(id);
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
  const requireUser = async (request: IncomingMessage): Promise<User> => {
    const user = await currentUser(context, request);
    if (user === undefined) throw new HttpError(401, "sign in first: send Authorization: Bearer <token>");
    return user;
  };
  const requireAdmin = async (request: IncomingMessage): Promise<User> => {
    const user = await requireUser(request);
    if (!admins.has(user.username)) throw new HttpError(403, "admins only");
    return user;
  };
  const signedIn = (response: ServerResponse, status: number, user: User): void => {
    const token = userToken(secret, user);
    json(response, status, { token, user }, { "set-cookie": sessionCookie(token, TOKEN_MAX_AGE) });
  };

  router.add("POST", "/api/users", async (request, response) => {
    const credentials = readCredentials(await readJson(request));
    if (!credentials.ok) throw new HttpError(422, credentials.error);
    const user = await signUp(store, credentials.username, credentials.password);
    if (user === null) throw new HttpError(409, "that username is taken");
    signedIn(response, 201, user);
  });

  router.add("POST", "/api/session", async (request, response) => {
    const credentials = readCredentials(await readJson(request));
    if (!credentials.ok) throw new HttpError(422, credentials.error);
    const user = await signIn(store, credentials.username, credentials.password);
    if (user === null) throw new HttpError(401, "wrong username or password");
    signedIn(response, 200, user);
  });

  router.add("DELETE", "/api/session", (_request, response) => {
    json(response, 200, { ok: true }, { "set-cookie": sessionCookie("", 0) });
  });

  router.add("GET", "/api/me", async (request, response) => {
    const user = await requireUser(request);
    json(response, 200, { user, admin: admins.has(user.username) });
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

  router.add("GET", "/api/parties/:room/cards", async (request, response, params) => {
    await requireUser(request);
    const room = text(params.room, "room", 1, 100);
    json(response, 200, { cards: await partyCards(store, room) });
  });

  router.add("POST", "/api/parties/:room/cards", async (request, response, params) => {
    await requireUser(request);
    const room = text(params.room, "room", 1, 100);
    const body = object(await readJson(request));
    const title = text(body.title, "title", 1, 200);
    const description = text(body.description ?? "", "description", 0, 2000);
    await partyCards(store, room);
    const card = await store.addCard(room, title, description);
    // Everyone in the party sees the new card live (its place in the backlog, not its id).
    context.broadcast(`party:${room}`, "card_added", { card: tableCard(await store.cards(room), card) });
    json(response, 201, card);
  });

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
    context.disconnect(`user_socket:${target.id}`);
    json(response, 200, { ok: true });
  });
}
