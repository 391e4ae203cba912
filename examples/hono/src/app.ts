/**
 * Cinder on Hono, served by `@hono/node-server`. Sign-in answers a JWT signed with Hono's own
 * `hono/jwt` helpers; the phoenix.js client sends it with its `authToken` option (a WebSocket
 * subprotocol, so it stays out of URLs and logs), `connect` verifies it with the same helpers and
 * hands its expiry to Cinder. `POST /rooms/:room/messages`, behind Hono's `jwt()` middleware,
 * broadcasts from a route handler to everyone joined to `room:<room>`.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Hono } from "hono";
import { jwt, sign, verify } from "hono/jwt";
import { createAdaptorServer } from "@hono/node-server";
import { accept, attach, defineChannel, defineSocket, ok, refuse, type ChannelSocket, type Endpoint } from "@cinder/server";

/** What the socket knows of a signed-in user. */
export type UserAssigns = { user: string };

/** A running example app. */
export interface ExampleApp {
  readonly server: Server;
  readonly endpoint: Endpoint;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/** Signed-in names: 1–32 letters, digits, `_` or `-`. */
const NAME = /^[\w-]{1,32}$/;

/** Starts the app on `port` (0: any free port). `secret` signs the JWTs; they last `tokenTtlS` seconds (default 900). */
export async function startApp(options: { secret: string; port?: number; host?: string; tokenTtlS?: number }): Promise<ExampleApp> {
  const ttl = options.tokenTtlS ?? 900;
  const app = new Hono();

  app.post("/login", async (c) => {
    const { name } = await c.req.json<{ name?: unknown }>().catch(() => ({ name: undefined }));
    if (typeof name !== "string" || !NAME.test(name)) return c.json({ error: "name must be 1-32 letters, digits, _ or -" }, 400);
    const now = Math.floor(Date.now() / 1000);
    return c.json({ token: await sign({ sub: name, iat: now, exp: now + ttl }, options.secret, "HS256") });
  });

  // A broadcast from a route handler: every socket joined to room:<room> gets "new_msg".
  app.post("/rooms/:room/messages", jwt({ secret: options.secret, alg: "HS256" }), async (c) => {
    const { body } = await c.req.json<{ body?: unknown }>().catch(() => ({ body: undefined }));
    if (typeof body !== "string" || body.length === 0 || body.length > 2000) return c.json({ error: "body must be 1-2000 characters" }, 400);
    const { sub } = c.get("jwtPayload") as { sub: string };
    endpoint.broadcast(`room:${c.req.param("room")}`, "new_msg", { from: sub, body });
    return c.json({ ok: true }, 202);
  });

  const Room = defineChannel({
    join(_topic: string, _params: unknown, socket: ChannelSocket<UserAssigns>) {
      return ok({ user: socket.assigns.user });
    },
  });

  const socket = defineSocket<UserAssigns>({
    async connect(_params, info) {
      if (info.authToken === undefined) return refuse(403, "missing token");
      let claims: { sub?: unknown; exp?: unknown; iat?: unknown };
      try {
        claims = await verify(info.authToken, options.secret, "HS256");
      } catch {
        return refuse(403, "invalid token");
      }
      if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return refuse(403, "invalid token");
      return accept({ user: claims.sub }, {
        expiresAt: claims.exp * 1000,
        ...(typeof claims.iat === "number" ? { issuedAt: claims.iat * 1000 } : {}),
      });
    },
    id: ({ assigns }) => `user:${assigns.user}`,
    channels: { "room:*": Room },
  });

  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  const endpoint = attach(server, { socket });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    endpoint,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await endpoint.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
