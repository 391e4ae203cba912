/**
 * The Hono example driven by the official phoenix.js client: the JWT `hono/jwt` signed at
 * sign-in, sent with phoenix.js's `authToken` option, reaches `connect` (the join reply names the
 * user) with its expiry; a route handler's broadcast reaches the joined channel; a bad JWT is
 * refused at connect (403) and by Hono's `jwt()` middleware at the route (401).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import { startApp } from "../src/app.js";

const app = await startApp({ secret: "hono-example-test-secret-0123456789" });
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

test("the JWT reaches connect through authToken, with its expiry, and a route handler's broadcast reaches the channel", async () => {
  const token = await signIn("linus");
  const socket = new Socket(socketUrl, { transport: WebSocket, authToken: token, timeout: 3000 });
  const expiry = new Promise<number>((resolve) => socket.onMessage((message) => {
    if (message.topic === "phoenix" && message.event === "access_token_expiry") resolve((message.payload as { expires_in: number }).expires_in);
  }));
  socket.connect();
  try {
    const room = socket.channel("room:lobby");
    assert.deepEqual(await join(room), { user: "linus" });
    const left = await expiry;
    assert.ok(left > 890_000 && left <= 900_000, `the JWT's 15 minutes (${left} ms left)`);
    const received = new Promise((resolve) => room.on("new_msg", resolve));
    const posted = await fetch(`${app.url}/rooms/lobby/messages`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ body: "hello" }),
    });
    assert.equal(posted.status, 202);
    assert.deepEqual(await received, { from: "linus", body: "hello" });
  } finally {
    socket.disconnect();
  }
});

test("a missing or forged JWT: the socket is refused with 403 and the route answers 401", async () => {
  const forged = `${(await signIn("linus")).slice(0, -4)}AAAA`;
  for (const token of [undefined, "not-a-jwt", forged]) {
    const protocols = token === undefined ? ["phoenix"] : ["phoenix", `base64url.bearer.phx.${Buffer.from(token).toString("base64url")}`];
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${socketUrl}/websocket?vsn=2.0.0`, protocols);
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
