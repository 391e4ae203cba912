/**
 * The apps' server, assembled: the store (SQLite or PostgreSQL, migrated on start), presence,
 * the socket (a signed token in the `token` param; socket id `session:<id>`, one per session) with the four
 * apps' channels, the JSON API, the pages and the assets, on one `node:http` server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { attach, createPresence, defineSocket, PubSub, refuse, type Endpoint, type Logger, type Presence } from "@cinder/server";
import { createMetrics } from "@cinder/metrics";
import { createDashboard } from "@cinder/dashboard";
import { RedisAdapter, redisOptionsFromEnv } from "@cinder/redis";
import { ensureAccount, hashing, sessionSocketId, signedOutMessage, signToken, TOKEN_MAX_AGE, verifyToken } from "./accounts.js";
import { DEFAULT_THROTTLE, SignInThrottle } from "./throttle.js";
import type { Config } from "./config.js";
import { openPostgres, openSqlite, type Db } from "./db/db.js";
import { migrate } from "./db/migrations.js";
import { Store } from "./db/store.js";
import type { AppContext, UserAssigns } from "./channels/context.js";
import { ALL as NOTIFICATIONS_ALL, NOTIFICATIONS_BIG_ROOM, notificationsChannel, onlineCountsHook } from "./channels/notifications.js";
import { partyChannel } from "./channels/party.js";
import { retroChannel } from "./channels/retro.js";
import { decorateViewers, videoChannel } from "./channels/videos.js";
import { addApiRoutes, requestSession, type ApiContext } from "./http/api.js";
import { guardAccount, type AccountGuard } from "./channels/account-guard.js";
import { serveAsset, type AssetRoot } from "./http/assets.js";
import { renderNotFound, renderPage } from "./http/pages.js";
import { HttpError, json, parseId } from "./http/respond.js";
import { newNonce, pageHeaders } from "./http/security.js";
import { Router, type Handler } from "./http/router.js";

/** A running apps server. */
export interface App {
  server: Server;
  endpoint: Endpoint;
  store: Store;
  presence: Presence;
  logger: Logger;
  /**
   * Closes every socket of a user, in every session of theirs (of the last two weeks, revoked or
   * not): what an operator calls after changing a user behind the app's back. Returns how many
   * sessions it closed.
   */
  disconnectUser(userId: number): Promise<number>;
  /** Stops everything (presence leaves the cluster at once, connections close, the database closes). */
  close(): Promise<void>;
  /** Graceful shutdown: clients told to reconnect (1012) in batches over `windowMs`, then `close`. */
  drain(windowMs?: number): Promise<void>;
}

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** The folders `/assets/` is served from. */
const ASSETS: AssetRoot[] = [
  { prefix: "/assets/client/", dir: here("../../../../packages/client/dist/browser/") },
  { prefix: "/assets/", dir: here("../web/") },
  { prefix: "/assets/", dir: here("../../public/") },
];

/** Answers 404: JSON for the API and scripts, the HTML page for browsers. */
function notFound(request: IncomingMessage, response: ServerResponse, url: URL): void {
  const wantsHtml = !url.pathname.startsWith("/api/") && (request.headers.accept ?? "").includes("text/html");
  if (!wantsHtml) {
    json(response, 404, { error: "not found" });
    return;
  }
  response.writeHead(404, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...pageHeaders(newNonce()) })
    .end(renderNotFound());
}

/** Opens the configured database and migrates it. */
export async function openStore(config: Pick<Config, "databaseUrl" | "dataDir">, schema?: string): Promise<Store> {
  const db: Db = config.databaseUrl !== undefined
    ? await openPostgres(config.databaseUrl, schema)
    : openSqlite(`${config.dataDir}/cinder.sqlite3`);
  await migrate(db);
  const store = new Store(db);
  if ((await store.videos()).length === 0) await store.addVideo("Sample: counting to twenty", "/assets/sample.webm", null);
  return store;
}

/** Builds the apps' server (not yet listening). */
export async function createApp(config: Config, options: { store?: Store; logger?: Logger; nodeName?: string } = {}): Promise<App> {
  const logger: Logger = options.logger ?? pino({ name: "apps", level: process.env.LOG_LEVEL ?? "info" });
  const store = options.store ?? await openStore(config);
  if (config.hashConcurrency !== undefined) hashing.concurrency = config.hashConcurrency;
  if (config.adminPassword !== undefined) {
    if (await ensureAccount(store, "admin", config.adminPassword)) logger.info({}, "created the admin account `admin` from ADMIN_PASSWORD");
  }
  // CINDER_REDIS_CLUSTER / CINDER_REDIS_ROUTING / CINDER_REDIS_LINGER_MS / CINDER_REDIS_NAMESPACE refine config.redisUrl (see @cinder/redis).
  const redis = redisOptionsFromEnv(process.env, config.redisUrl);
  const adapter = redis === undefined ? undefined
    : new RedisAdapter({ ...redis, logger, ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}) });
  const pubsub = new PubSub({ adapter, onSubscriberError: (err, topic) => logger.error({ err, topic }, "subscriber failed") });
  let endpoint!: Endpoint;
  const onlineCounts = onlineCountsHook(() => presence, (topic, event, payload) => pubsub.localBroadcast(topic, event, payload));
  const presence: Presence = createPresence({
    pubsub,
    logger,
    fetch: (topic, presences) => (topic.startsWith("videos:") ? decorateViewers(store, presences) : presences),
    handleMetas: (topic, diff) => onlineCounts.handleMetas(topic, diff),
    // Pages show only the counts of notifications:all, never its roster: from 500 connections on
    // it is a big room, so a join storm sends no presence_diff (and no presence_state) to every page.
    bigRoom: (topic) => (topic === NOTIFICATIONS_ALL ? NOTIFICATIONS_BIG_ROOM : undefined),
    ...(config.presenceLeaveGraceMs !== undefined ? { leaveGraceMs: config.presenceLeaveGraceMs } : {}),
  });
  const metrics = createMetrics({ presence });
  // the operators' live dashboard (/admin/dashboard): its channel admits admins only
  const dashboard = createDashboard<UserAssigns>({ presence, authorize: (s) => config.admins.has(s.assigns.user.username) });
  let stopping = false;
  const context: AppContext = {
    store, presence, broadcast: (topic, event, payload) => endpoint.broadcast(topic, event, payload), stopping: () => stopping,
  };

  // a socket whose account ended while it stayed open is refused cleanly (channels/account-guard.ts)
  const guard: AccountGuard = { store, disconnect: (socketId) => endpoint.disconnect(socketId) };
  const socket = defineSocket<UserAssigns>({
    async connect(params) {
      // A page's socket token, or an API client's session token; either way the session must be open.
      const claims = verifyToken(config.secretKeyBase, "socket", params.token) ?? verifyToken(config.secretKeyBase, "session", params.token);
      if (claims === null) return refuse(403);
      const session = await store.session(claims.sessionId, claims.userId);
      return session.ok ? { user: session.user, sessionId: claims.sessionId } : refuse(403, signedOutMessage(session.revokedBy));
    },
    // one socket id per session: sign-out closes this session's sockets only (see http/api.ts)
    id: (s) => sessionSocketId(s.assigns.sessionId),
    channels: {
      "room:*": guardAccount(guard, retroChannel(context, { voteBudget: config.retroVoteBudget })),
      "videos:*": guardAccount(guard, videoChannel(context, { positionIntervalMs: config.positionIntervalMs })),
      "party:*": guardAccount(guard, partyChannel(context, { leaveGraceMs: config.partyLeaveGraceMs })),
      "notifications:*": guardAccount(guard, notificationsChannel(context)),
      [dashboard.topic]: dashboard.channel,
    },
  });

  const api: ApiContext = {
    store, secret: config.secretKeyBase, admins: config.admins,
    broadcast: (topic, event, payload) => endpoint.broadcast(topic, event, payload),
    disconnect: (socketId) => endpoint.disconnect(socketId),
    throttle: new SignInThrottle({
      perAccount: config.signInPerAccount ?? DEFAULT_THROTTLE.perAccount,
      perAddress: config.signInPerAddress ?? DEFAULT_THROTTLE.perAddress,
      windowMs: config.signInWindowS !== undefined ? config.signInWindowS * 1000 : DEFAULT_THROTTLE.windowMs,
    }),
  };
  const router = new Router();
  addApiRoutes(router, api);
  /** A page; `data` answering undefined means there is nothing at this URL (the HTML 404). */
  const page = (title: string, script: string, data: (params: Record<string, string>) => Record<string, unknown> | undefined = () => ({})): Handler =>
    async (request, response, params, url) => {
      const session = await requestSession(api, request);
      const user = session.ok ? session.user : undefined;
      const signedIn = user !== undefined;
      const pageData = signedIn ? data(params) : { next: url.pathname };
      if (pageData === undefined) {
        notFound(request, response, url);
        return;
      }
      const nonce = newNonce();
      const html = renderPage({
        nonce,
        title: signedIn ? title : "Sign in",
        script: signedIn ? script : "home",
        user, admin: user !== undefined && config.admins.has(user.username),
        token: session.ok ? signToken(config.secretKeyBase, "socket", session.claims) : undefined,
        data: pageData,
      });
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...pageHeaders(nonce) }).end(html);
    };
  router
    .add("GET", "/", page("Home", "home"))
    .add("GET", "/retro/:room", page("Retro", "retro", (p) => ({ room: p.room })))
    .add("GET", "/videos", page("Videos", "videos"))
    .add("GET", "/videos/:id", page("Video", "video", (p) => { const id = parseId(p.id); return id === undefined ? undefined : { id }; }))
    .add("GET", "/party/:room", page("Pointing party", "party", (p) => ({ room: p.room })))
    .add("GET", "/admin", page("Admin", "admin"))
    .add("GET", "/admin/dashboard", async (request, response, _params, url) => {
      const session = await requestSession(api, request);
      if (!session.ok || !config.admins.has(session.user.username)) {
        // signed out: the sign-in page; signed in but not an admin: the admin page says "Admins only"
        await page("Admin", "admin")(request, response, {}, url);
        return;
      }
      const nonce = newNonce();
      const html = dashboard.page({
        nonce, socketUrl: "/socket", clientUrl: "/assets/client/cinder-client.min.js",
        params: { token: signToken(config.secretKeyBase, "socket", session.claims) },
      });
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...pageHeaders(nonce) }).end(html);
    })
    .add("GET", "/favicon.svg", (request, response, _params, url) => serveFavicon(request, response, url))
    .add("GET", "/favicon.ico", (request, response, _params, url) => serveFavicon(request, response, url));
  const serveFavicon = (request: IncomingMessage, response: ServerResponse, url: URL): void => {
    if (!serveAsset(ASSETS, request, response, "/assets/favicon.svg")) notFound(request, response, url);
  };

  const server = createServer((request, response) => {
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://localhost");
    } catch {
      json(response, 400, { error: "bad request URL" });
      return;
    }
    if (request.method === "GET" && url.pathname === "/metrics") {
      // Metrics are for operators: with METRICS_TOKEN, a matching Bearer token; without it, loopback only.
      const address = request.socket.remoteAddress ?? "";
      const allowed = config.metricsToken !== undefined
        ? request.headers.authorization === `Bearer ${config.metricsToken}`
        : address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
      if (allowed) metrics.handler(request, response);
      else json(response, 403, { error: "metrics are available from this machine, or with METRICS_TOKEN" });
      return;
    }
    if ((request.method === "GET" || request.method === "HEAD") && url.pathname.startsWith("/assets/")) {
      if (!serveAsset(ASSETS, request, response, url.pathname)) notFound(request, response, url);
      return;
    }
    const found = router.match(request.method ?? "GET", url.pathname);
    if (found === undefined) {
      notFound(request, response, url);
      return;
    }
    if ("allowed" in found) {
      json(response, 405, { error: `use ${found.allowed.join(" or ")}` }, { allow: found.allowed.join(", ") });
      return;
    }
    Promise.resolve(found.handler(request, response, found.params, url)).catch((caught: unknown) => {
      if (caught instanceof HttpError && caught.status === 404 && !url.pathname.startsWith("/api/")) notFound(request, response, url);
      else if (caught instanceof HttpError) json(response, caught.status, { error: caught.message });
      else {
        logger.error({ err: caught, path: url.pathname }, "request failed");
        json(response, 500, { error: "internal error" });
      }
    });
  });

  endpoint = attach(server, { path: "/socket", socket, pubsub, logger, longpoll: true });
  metrics.observe(endpoint);
  dashboard.observe(endpoint);
  const app: App = {
    server, endpoint, store, presence, logger,
    async disconnectUser(userId) {
      const sessions = await store.sessionIds(userId, Date.now() - TOKEN_MAX_AGE * 1000);
      for (const sessionId of sessions) endpoint.disconnect(sessionSocketId(sessionId));
      return sessions.length;
    },
    async drain(windowMs) {
      stopping = true;
      await endpoint.drain(windowMs);
      await app.close();
    },
    async close() {
      stopping = true;
      onlineCounts.close();
      metrics.close();
      dashboard.close();
      await presence.close();
      await endpoint.close();
      await pubsub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.db.close();
    },
  };
  return app;
}
