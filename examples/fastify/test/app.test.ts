/**
 * The Fastify example driven by the official phoenix.js client: the JWT `@fastify/jwt` signed at
 * sign-in reaches `connect` (the join reply names the user) with its expiry, a newer JWT pushed
 * in-band is accepted (no reconnect), a route handler's broadcast reaches the joined channel,
 * and a bad JWT is refused at connect (403) and at the route (401).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Socket, type Channel, type Message } from "phoenix";
import { WebSocket } from "ws";
import { startApp } from "../src/app.js";

const app = await startApp({ secret: "fastify-example-test-secret-0123456789" });
after(() => app.close());
const socketUrl = `${app.url.replace(/^http/, "ws")}/socket`;

async function signIn(name: string): Promise<string> {
  const response = await fetch(`${app.url}/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

function join(channel: Channel): Promise<{ user: string }> {
  return new Promise((resolve, reject) => {
    channel.join().receive("ok", resolve).receive("error", reject).receive("timeout", () => reject(new Error("join timeout")));
  });
}

/** The next message on the `phoenix` topic matching `match`. */
function next(socket: Socket, match: (message: Message) => boolean): Promise<Message> {
  return new Promise((resolve) => {
    const ref = socket.onMessage((message) => {
      if (message.topic === "phoenix" && match(message)) {
        socket.off([ref]);
        resolve(message);
      }
    });
  });
}

test("the JWT reaches connect with its expiry, refreshes in-band, and a route handler's broadcast reaches the channel", async () => {
  let token = await signIn("grace");
  const socket = new Socket(socketUrl, { transport: WebSocket, params: () => ({ token }), timeout: 3000 });
  const expiry = next(socket, (message) => message.event === "access_token_expiry");
  socket.connect();
  try {
    const room = socket.channel("room:lobby");
    assert.deepEqual(await join(room), { user: "grace" });
    const { expires_in: expiresIn, expires_at: expiresAt } = (await expiry).payload as { expires_in: number; expires_at: number };
    assert.ok(expiresIn > 890_000 && expiresIn <= 900_000, `the JWT's 15 minutes (${expiresIn} ms left)`);

    await new Promise((resolve) => setTimeout(resolve, 1100)); // JWT times are in seconds
    token = await signIn("grace");
    const ref = socket.makeRef();
    const reply = next(socket, (message) => message.event === "phx_reply" && message.ref === ref);
    socket.push({ topic: "phoenix", event: "access_token", payload: { token }, ref, join_ref: null });
    const { status, response } = (await reply).payload as { status: string; response: { expires_at: number } };
    assert.equal(status, "ok");
    assert.ok(response.expires_at >= expiresAt + 1000, "the newer JWT moved the expiry");

    const received = new Promise((resolve) => room.on("new_msg", resolve));
    const posted = await fetch(`${app.url}/rooms/lobby/messages`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ body: "hello" }),
    });
    assert.equal(posted.status, 202);
    assert.deepEqual(await received, { from: "grace", body: "hello" });
    assert.equal(room.state, "joined");
  } finally {
    socket.disconnect();
  }
});

test("a missing or forged JWT: the socket is refused with 403 and the route answers 401", async () => {
  const forged = `${(await signIn("grace")).slice(0, -4)}AAAA`;
  for (const token of ["", "not-a-jwt", forged]) {
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${socketUrl}/websocket?vsn=2.0.0&token=${encodeURIComponent(token)}`);
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.on("open", () => { ws.close(); resolve(101); });
      ws.on("error", () => resolve(undefined));
    });
    assert.equal(status, 403, `token ${JSON.stringify(token)}`);
  }
  const posted = await fetch(`${app.url}/rooms/lobby/messages`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${forged}` }, body: JSON.stringify({ body: "hi" }),
  });
  assert.equal(posted.status, 401);
});
