/**
 * Cinder on Express 5. Sign-in sets a signed cookie with `cookie-parser` (Express's own cookie
 * middleware); `connect` runs that same middleware on the WebSocket upgrade request, so the
 * user Express knows is the user the socket knows. `POST /rooms/:room/messages` broadcasts from
 * a route handler to everyone joined to `room:<room>`.
 */
import { createServer, ServerResponse, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Request, type RequestHandler, type Response } from "express";
import cookieParser from "cookie-parser";
import { attach, defineChannel, defineSocket, ok, refuse, type ChannelSocket, type Endpoint } from "@cinder/server";

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

/** Runs an Express middleware on a plain request (here: the WebSocket upgrade request). */
function runMiddleware(middleware: RequestHandler, request: IncomingMessage): Promise<Request> {
  return new Promise((resolve, reject) => {
    const req = request as Request;
    middleware(req, new ServerResponse(request) as Response, (error?: unknown) => (error ? reject(error) : resolve(req)));
  });
}

/** Signed-in names: 1–32 letters, digits, `_` or `-`. */
const NAME = /^[\w-]{1,32}$/;

/** Starts the app on `port` (0: any free port). `secret` signs the session cookies. */
export async function startApp(options: { secret: string; port?: number; host?: string }): Promise<ExampleApp> {
  const cookies = cookieParser(options.secret);
  const app = express();
  app.use(express.json({ limit: "16kb" }));
  app.use(cookies);

  app.post("/login", (req, res) => {
    const name: unknown = req.body?.name;
    if (typeof name !== "string" || !NAME.test(name)) {
      res.status(400).json({ error: "name must be 1-32 letters, digits, _ or -" });
      return;
    }
    res.cookie("user", name, { signed: true, httpOnly: true, sameSite: "lax" });
    res.json({ user: name });
  });

  // A broadcast from a route handler: every socket joined to room:<room> gets "new_msg".
  app.post("/rooms/:room/messages", (req, res) => {
    const user: unknown = req.signedCookies.user;
    const body: unknown = req.body?.body;
    if (typeof user !== "string") {
      res.status(401).json({ error: "sign in first" });
      return;
    }
    if (typeof body !== "string" || body.length === 0 || body.length > 2000) {
      res.status(400).json({ error: "body must be 1-2000 characters" });
      return;
    }
    endpoint.broadcast(`room:${req.params.room}`, "new_msg", { from: user, body });
    res.status(202).json({ ok: true });
  });

  const Room = defineChannel({
    join(_topic: string, _params: unknown, socket: ChannelSocket<UserAssigns>) {
      return ok({ user: socket.assigns.user });
    },
  });

  const socket = defineSocket<UserAssigns>({
    async connect(_params, info) {
      // The same cookie-parser middleware, on the upgrade request: a forged or unsigned cookie is `false`/absent.
      const req = await runMiddleware(cookies, info.request);
      const user: unknown = req.signedCookies.user;
      if (typeof user !== "string") return refuse(403, "sign in first");
      return { user };
    },
    id: ({ assigns }) => `user:${assigns.user}`,
    channels: { "room:*": Room },
  });

  const server = createServer(app);
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
