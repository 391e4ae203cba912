/**
 * Tokens that expire on live connections (docs/protocol.md §11), driven by the official phoenix.js
 * client: a refresh before the expiry keeps every channel joined (no reconnect, no rejoin); no
 * refresh closes the socket at the expiry with 4001 "token expired"; a refreshed token that is
 * invalid, or names another socket, closes it with 4003; `endpoint.revoke` closes the id's
 * sockets and refuses its old tokens; the same over long-poll.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { LongPoll, Socket as PhoenixSocket, type Channel, type Message } from "phoenix";
import { WebSocket } from "ws";
import {
  accept, defineChannel, defineSocket, ok, PubSub, refuse, renew, subscribeDiagnostics, Token, type TokenMessage,
} from "../src/index.js";
import { Revocations } from "../src/socket/index.js";
import { Bus } from "./support/bus.js";
import { serverPool } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";

const SECRET = "token-expiry-test-secret-0123456789";
const SALT = "user socket";
/** Token lifetime in the tests: long enough for a loaded machine to connect and join within it. */
const TTL = 800;

/** A signed token for `user`, valid for `ttlMs` from `issuedAt`. */
function sign(user: string, ttlMs: number, issuedAt = Date.now()): string {
  return Token.sign(SECRET, SALT, { user, exp: issuedAt + ttlMs, iat: issuedAt }, { maxAge: 3600 });
}

/** Reads a token: its claims, or null when it is not ours. */
function read(token: unknown): { user: string; exp: number; iat: number } | null {
  try {
    return Token.verify(SECRET, SALT, typeof token === "string" ? token : undefined);
  } catch {
    return null;
  }
}

const Room = defineChannel({
  join: () => ok(),
  handleIn: (_event: string, payload: unknown) => ok(payload),
});

/** Without a `refresh` hook: a refreshed token goes through `connect` again. */
const viaConnect = defineSocket<{ user: string }>({
  connect(params, info) {
    // phoenix.js's `authToken` option (long-poll takes the `token` query parameter for its session).
    const claims = read(info.authToken ?? params.token);
    if (claims === null) return refuse(403, "bad token");
    return accept({ user: claims.user }, { expiresAt: claims.exp, issuedAt: claims.iat });
  },
  id: ({ assigns }) => `user:${assigns.user}`,
  channels: { "room:*": Room },
});

/** With a `refresh` hook. */
const viaHook = defineSocket<{ user: string }>({
  ...viaConnect,
  refresh(token, socket) {
    const claims = read(token);
    if (claims === null || claims.user !== socket.assigns.user) return refuse(403, "token refused");
    return renew(claims.exp, { issuedAt: claims.iat });
  },
});

const pool = serverPool({ socket: viaConnect, longpoll: { windowMs: 300 } });
after(() => pool.closeAll());

const tokenEvents: TokenMessage[] = [];
const stopDiagnostics = subscribeDiagnostics("cinder:socket:token", (message) => tokenEvents.push(message));
after(stopDiagnostics);

interface Client {
  socket: PhoenixSocket;
  opens: number;
  closes: Array<{ code: number; reason: string }>;
  expiries: number[];
  /** Sends `token` in an `access_token` frame; resolves with the reply payload. */
  refresh(token: string): Promise<{ status: string; response: Record<string, unknown> }>;
}

function client(url: string, token: () => string, transport: unknown = WebSocket): Client {
  const auth = transport === LongPoll ? { authToken: token } : { params: () => ({ token: token() }) };
  const socket = new PhoenixSocket(url, {
    transport, ...auth, reconnectAfterMs: () => 60_000, timeout: 2000,
  });
  const state: Client = {
    socket,
    opens: 0,
    closes: [],
    expiries: [],
    refresh(value) {
      const ref = socket.makeRef();
      return new Promise((resolve) => {
        const listener = socket.onMessage((message: Message) => {
          if (message.topic === "phoenix" && message.event === "phx_reply" && message.ref === ref) {
            socket.off([listener]);
            resolve(message.payload as { status: string; response: Record<string, unknown> });
          }
        });
        socket.push({ topic: "phoenix", event: "access_token", payload: { token: value }, ref, join_ref: null });
      });
    },
  };
  socket.onOpen(() => { state.opens++; });
  socket.onClose((event) => {
    const { code, reason } = event as { code: number; reason: string };
    state.closes.push({ code, reason });
  });
  socket.onMessage((message) => {
    if (message.topic === "phoenix" && message.event === "access_token_expiry") {
      state.expiries.push((message.payload as { expires_in: number }).expires_in);
    }
  });
  socket.connect();
  return state;
}

function joined(channel: Channel): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.join().receive("ok", () => resolve()).receive("error", (reason) => reject(new Error(JSON.stringify(reason))));
  });
}

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(10);
  }
}

for (const [name, socket] of [["through connect", viaConnect], ["through the refresh hook", viaHook]] as const) {
  test(`refreshing before the expiry keeps the socket and every channel joined (${name})`, async () => {
    const server = await pool.start({ socket });
    const c = client(server.socketUrl, () => sign("ann", TTL));
    const rooms = [c.socket.channel("room:a"), c.socket.channel("room:b")];
    await Promise.all(rooms.map(joined));
    const joinRefs = rooms.map((room) => room.joinRef());
    await until(() => c.expiries.length === 1);
    assert.ok(c.expiries[0]! > 0 && c.expiries[0]! <= TTL, "the server states the time left");
    // Refresh three times, each halfway to the expiry: past the first token's lifetime and beyond.
    for (let i = 0; i < 3; i++) {
      await sleep(TTL / 2);
      const reply = await c.refresh(sign("ann", 2 * TTL)); // refreshed tokens: a margin for a loaded machine
      assert.equal(reply.status, "ok", JSON.stringify(reply));
      assert.ok(typeof reply.response.expires_in === "number" && reply.response.expires_in > TTL, JSON.stringify(reply));
    }
    await sleep(TTL / 2);
    assert.equal(c.socket.isConnected(), true);
    assert.equal(c.opens, 1, "no reconnect");
    assert.deepEqual(c.closes, []);
    assert.deepEqual(rooms.map((room) => room.state), ["joined", "joined"]);
    assert.deepEqual(rooms.map((room) => room.joinRef()), joinRefs, "no rejoin");
    const echoed = await new Promise((resolve) => rooms[1]!.push("echo", { n: 1 }).receive("ok", resolve));
    assert.deepEqual(echoed, { n: 1 });
    // Then stop refreshing: closed at the expiry.
    await until(() => c.closes.length > 0, 4 * TTL);
    assert.deepEqual(c.closes[0], { code: 4001, reason: "token expired" });
    c.socket.disconnect();
  });
}

test("no refresh: the socket is closed at the expiry with 4001 \"token expired\", and the expired token cannot reconnect", async () => {
  const server = await pool.start();
  const before = tokenEvents.length;
  let token = "";
  let signedAt = 0;
  const c = client(server.socketUrl, () => {
    signedAt = Date.now();
    return (token = sign("bob", TTL, signedAt));
  });
  const room = c.socket.channel("room:x");
  await joined(room);
  await until(() => c.closes.length > 0, 5 * TTL);
  const elapsed = Date.now() - signedAt;
  assert.deepEqual(c.closes[0], { code: 4001, reason: "token expired" });
  assert.ok(elapsed >= TTL - 5 && elapsed < 4 * TTL, `closed at the expiry (${elapsed} ms after signing, lifetime ${TTL} ms)`);
  assert.deepEqual(tokenEvents.slice(before).map((event) => [event.outcome, event.transport]), [["expired", "websocket"]]);
  c.socket.disconnect();
  await assert.rejects(RawClient.connect(`${server.websocketUrl}?token=${encodeURIComponent(token)}&vsn=2.0.0`),
    (error: { status?: number; body?: string }) => error.status === 403 && error.body === "token expired");
});

test("a refreshed token that is invalid, or for another user, gets an error reply and closes the socket with 4003", async () => {
  for (const socket of [viaConnect, viaHook]) {
    const server = await pool.start({ socket });
    for (const bad of ["not a token", sign("eve", 5_000)]) {
      const c = client(server.socketUrl, () => sign("ann", 5_000));
      await joined(c.socket.channel("room:a"));
      const reply = await c.refresh(bad);
      assert.equal(reply.status, "error");
      await until(() => c.closes.length > 0);
      assert.equal(c.closes[0]!.code, 4003);
      assert.equal(reply.response.reason, c.closes[0]!.reason);
      c.socket.disconnect();
    }
  }
});

test("an expired token pushed as a refresh is refused; a malformed frame is answered and the socket stays", async () => {
  const server = await pool.start({ socket: viaHook });
  const raw = await RawClient.connect(`${server.websocketUrl}?token=${encodeURIComponent(sign("ann", 5_000))}&vsn=2.0.0`);
  await raw.next((frame) => frame[3] === "access_token_expiry");
  raw.send([null, "1", "phoenix", "access_token", { token: 42 }]);
  const malformed = await raw.next((frame) => frame[1] === "1");
  assert.deepEqual(malformed[4], { status: "error", response: { reason: "token must be a non-empty string" } });
  raw.send([null, "2", "phoenix", "access_token", { token: sign("ann", -1) }]);
  const expired = await raw.next((frame) => frame[1] === "2");
  assert.deepEqual(expired[4], { status: "error", response: { reason: "token expired" } });
  await until(() => raw.closeCode !== undefined);
  assert.equal(raw.closeCode, 4003);
  assert.equal(raw.closeReason, "token expired");
});

test("revoke: the socket id's connections close with 4003, its old tokens are refused, a newer sign-in works", async () => {
  const server = await pool.start();
  const old = sign("cid", 60_000);
  const a = client(server.socketUrl, () => old);
  const b = client(server.socketUrl, () => old);
  const other = client(server.socketUrl, () => sign("dan", 60_000));
  await Promise.all([a, b, other].map((c) => joined(c.socket.channel("room:r"))));
  await sleep(5);
  server.endpoint.revoke("user:cid");
  await until(() => a.closes.length > 0 && b.closes.length > 0);
  assert.deepEqual([a.closes[0], b.closes[0]], [{ code: 4003, reason: "token revoked" }, { code: 4003, reason: "token revoked" }]);
  assert.equal(other.socket.isConnected(), true, "other socket ids stay");
  await assert.rejects(RawClient.connect(`${server.websocketUrl}?token=${encodeURIComponent(old)}&vsn=2.0.0`),
    (error: { status?: number; body?: string }) => error.status === 403 && error.body === "token revoked");
  await sleep(5);
  const fresh = await RawClient.connect(`${server.websocketUrl}?token=${encodeURIComponent(sign("cid", 60_000))}&vsn=2.0.0`);
  // ...and refreshing an open socket with a token issued before the revocation is refused.
  fresh.send([null, "1", "phoenix", "access_token", { token: old }]);
  const refused = await fresh.next((frame) => frame[1] === "1");
  assert.deepEqual(refused[4], { status: "error", response: { reason: "token revoked" } });
  for (const c of [a, b, other]) c.socket.disconnect();
});

test("long-poll: a refresh keeps the session and its channel; without one the session ends at the expiry", async () => {
  const server = await pool.start();
  const url = `http://127.0.0.1:${server.port}/socket`;
  await (await fetch(`http://127.0.0.1:${server.port}/`)).text(); // loads fetch before the clock starts
  const ttl = 2 * TTL; // long-poll answers take a round trip more
  const c = client(url, () => sign("lp", ttl), LongPoll);
  const room = c.socket.channel("room:lp");
  await joined(room);
  const joinRef = room.joinRef();
  await until(() => c.expiries.length === 1);
  await sleep(ttl / 2);
  const reply = await c.refresh(sign("lp", ttl));
  assert.equal(reply.status, "ok", JSON.stringify(reply));
  await sleep(ttl * 0.7); // past the first token's expiry
  assert.equal(c.opens, 1);
  assert.equal(room.state, "joined");
  assert.equal(room.joinRef(), joinRef);
  assert.equal(server.endpoint.connectionCount, 1);
  await until(() => server.endpoint.connectionCount === 0, 2 * ttl);
  c.socket.disconnect();
});

test("revoke on one node closes the id's sockets on another, which then refuses its old tokens", async () => {
  const bus = new Bus();
  const a = await pool.start({ pubsub: new PubSub({ adapter: bus.adapter("a") }) });
  const b = await pool.start({ pubsub: new PubSub({ adapter: bus.adapter("b") }) });
  const old = sign("eve", 60_000);
  const onB = await RawClient.connect(`${b.websocketUrl}?token=${encodeURIComponent(old)}&vsn=2.0.0`);
  await sleep(5);
  a.endpoint.revoke("user:eve");
  await until(() => onB.closeCode !== undefined);
  assert.deepEqual([onB.closeCode, onB.closeReason], [4003, "token revoked"]);
  await assert.rejects(RawClient.connect(`${b.websocketUrl}?token=${encodeURIComponent(old)}&vsn=2.0.0`),
    (error: { status?: number }) => error.status === 403);
});

test("Revocations: a token issued at or before the revocation is refused until the time to live passes", () => {
  let now = 1_000;
  const list = new Revocations(500, () => now);
  list.add("u", 1_000);
  assert.equal(list.isRevoked("u", 999), true);
  assert.equal(list.isRevoked("u", 1_000), true);
  assert.equal(list.isRevoked("u", 1_001), false, "issued after: a new sign-in");
  assert.equal(list.isRevoked("other", 0), false);
  now = 1_600;
  assert.equal(list.isRevoked("u", 999), false, "forgotten after the time to live");
  list.add("v", 1_600);
  assert.equal(list.size, 1, "expired entries are pruned");
});
