/**
 * The Express example driven by the official phoenix.js client: the signed cookie Express set at
 * sign-in reaches `connect` (the join reply names the user), a route handler's broadcast reaches
 * the joined channel, and without the cookie (or with a forged one) the socket is refused.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import { startApp } from "../src/app.js";

const app = await startApp({ secret: "express-example-test-secret" });
after(() => app.close());
const socketUrl = `${app.url.replace(/^http/, "ws")}/socket`;

/** A `ws` WebSocket that sends `cookie`, as a browser would for its own origin. */
function withCookie(cookie: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  };
}

async function signIn(name: string): Promise<string> {
  const response = await fetch(`${app.url}/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 200);
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie !== undefined && cookie.startsWith("user=s%3A"), `a signed cookie (${cookie})`);
  return cookie;
}

function join(channel: Channel): Promise<{ user: string }> {
  return new Promise((resolve, reject) => {
    channel.join().receive("ok", resolve).receive("error", reject).receive("timeout", () => reject(new Error("join timeout")));
  });
}

test("the session cookie reaches connect, and a route handler's broadcast reaches the channel", async () => {
  const cookie = await signIn("ada");
  const socket = new Socket(socketUrl, { transport: withCookie(cookie), timeout: 3000 });
  socket.connect();
  try {
    const room = socket.channel("room:lobby");
    assert.deepEqual(await join(room), { user: "ada" });
    const received = new Promise((resolve) => room.on("new_msg", resolve));
    const posted = await fetch(`${app.url}/rooms/lobby/messages`, {
      method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify({ body: "hello" }),
    });
    assert.equal(posted.status, 202);
    assert.deepEqual(await received, { from: "ada", body: "hello" });
  } finally {
    socket.disconnect();
  }
});

test("no cookie, or a forged one: the socket is refused with 403 and the route answers 401", async () => {
  for (const cookie of ["", "user=ada", "user=s%3Aada.forgedsignature"]) {
    const status = await new Promise<number | undefined>((resolve) => {
      const ws = new WebSocket(`${socketUrl}/websocket?vsn=2.0.0`, { headers: cookie ? { cookie } : {} });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode));
      ws.on("open", () => { ws.close(); resolve(101); });
      ws.on("error", () => resolve(undefined));
    });
    assert.equal(status, 403, `cookie ${JSON.stringify(cookie)}`);
  }
  const posted = await fetch(`${app.url}/rooms/lobby/messages`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ body: "hi" }),
  });
  assert.equal(posted.status, 401);
});
