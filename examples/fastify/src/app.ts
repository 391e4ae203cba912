/**
 * Cinder on Fastify 5 with `@fastify/jwt`. Sign-in answers a JWT signed by the plugin; the
 * phoenix.js client passes it as the `token` connect param, and `connect` verifies it with the
 * same plugin (`app.jwt.verify`) and hands its expiry to Cinder, so the socket is closed when
 * the JWT expires unless the client pushes a newer one in-band (docs/protocol.md §11).
 * `POST /rooms/:room/messages`, behind the plugin's `request.jwtVerify()`, broadcasts from a
 * route handler to everyone joined to `room:<room>`.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyRequest } from "fastify";
import fastifyJwt from "@fastify/jwt";
import { accept, attach, defineChannel, defineSocket, ok, refuse, type ChannelSocket, type Endpoint } from "@cinder/server";

/** What the socket knows of a signed-in user. */
export type UserAssigns = { user: string };

/** The claims of the app's JWTs. */
interface Claims {
  sub: string;
  iat: number;
  exp: number;
}

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
  const app = Fastify();
  await app.register(fastifyJwt, { secret: options.secret, sign: { expiresIn: options.tokenTtlS ?? 900 } });

  app.post<{ Body: { name?: unknown } }>("/login", async (request, reply) => {
    const name = request.body?.name;
    if (typeof name !== "string" || !NAME.test(name)) return reply.code(400).send({ error: "name must be 1-32 letters, digits, _ or -" });
    return { token: await reply.jwtSign({ sub: name }) };
  });

  const authenticate = async (request: FastifyRequest): Promise<void> => {
    await request.jwtVerify(); // answers 401 when the Authorization header lacks a valid JWT
  };

  // A broadcast from a route handler: every socket joined to room:<room> gets "new_msg".
  app.post<{ Params: { room: string }; Body: { body?: unknown } }>("/rooms/:room/messages", { onRequest: authenticate }, async (request, reply) => {
    const body = request.body?.body;
    if (typeof body !== "string" || body.length === 0 || body.length > 2000) return reply.code(400).send({ error: "body must be 1-2000 characters" });
    const { sub } = request.user as Claims;
    endpoint.broadcast(`room:${request.params.room}`, "new_msg", { from: sub, body });
    return reply.code(202).send({ ok: true });
  });

  const Room = defineChannel({
    join(_topic: string, _params: unknown, socket: ChannelSocket<UserAssigns>) {
      return ok({ user: socket.assigns.user });
    },
  });

  const socket = defineSocket<UserAssigns>({
    connect(params) {
      let claims: Claims;
      try {
        claims = app.jwt.verify<Claims>(String(params.token ?? ""));
      } catch {
        return refuse(403, "invalid token");
      }
      // The JWT's expiry becomes the connection's: refreshed in-band, or closed with 4001 then.
      return accept({ user: claims.sub }, { expiresAt: claims.exp * 1000, issuedAt: claims.iat * 1000 });
    },
    id: ({ assigns }) => `user:${assigns.user}`,
    channels: { "room:*": Room },
  });

  const endpoint = attach(app.server, { socket });
  await app.listen({ port: options.port ?? 0, host: options.host ?? "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    server: app.server,
    endpoint,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await endpoint.close();
      await app.close();
    },
  };
}
