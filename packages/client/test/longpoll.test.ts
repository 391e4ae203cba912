/**
 * Long-poll transport: session creation, join, push, broadcast, presence, binary lines, batches
 * of at most 100 lines, the session token in header and query, a lost session, and the
 * `longPollFallbackMs` fallback from a refused WebSocket (remembered in sessionStorage).
 */
import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { LongPoll, Presence, longPollEndpoint, type SessionStore } from "../src/index.js";
import { clientSocket, connected, inState, nextEvent, topic, useCleanup } from "./support/client.js";
import { startServer, waitUntil, within, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer({ longpoll: { windowMs: 1000 } }); });
after(async () => { await server.close(); });
useCleanup();

interface Request {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

const requests: Request[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: string | URL | globalThis.Request, init?: RequestInit) => {
  const headers = { ...(init?.headers as Record<string, string> | undefined) };
  requests.push({ method: init?.method ?? "GET", url: String(input), headers, body: typeof init?.body === "string" ? init.body : null });
  return realFetch(input, init);
}) as typeof fetch;
afterEach(() => { requests.length = 0; });

const lp = { transport: LongPoll, reconnectAfterMs: () => 50, rejoinAfterMs: () => 50 };

test("the long-poll endpoint is the WebSocket URL with http(s) and /longpoll", () => {
  assert.equal(longPollEndpoint("ws://h:1/socket/websocket?a=1&vsn=2.0.0"), "http://h:1/socket/longpoll?a=1&vsn=2.0.0");
  assert.equal(longPollEndpoint("wss://h/ws/websocket"), "https://h/ws/longpoll");
});

test("connect, join, call, server push and broadcast over long-poll; token in header and query", async () => {
  const socket = clientSocket(server.socketUrl, { ...lp, params: { user: "lp1", token: "user-token" }, authToken: "lp-auth" });
  await connected(socket);
  const record = server.connects.find((c) => c.params.user === "lp1");
  assert.equal(record?.transport, "longpoll");
  assert.equal(record?.authToken, "lp-auth");
  const t = topic();
  const channel = socket.channel(t, { hi: 1 });
  assert.deepEqual(await channel.joined(), { topic: t, params: { hi: 1 } });
  assert.deepEqual(await channel.call("ping", { n: 1 }), { n: 1 });
  const pushed = nextEvent(channel, "pushed");
  await channel.call("push", { p: 2 });
  assert.deepEqual(await pushed, { p: 2 });
  const broadcast = nextEvent(channel, "broadcasted");
  server.endpoint.broadcast(t, "broadcasted", { b: 3 });
  assert.deepEqual(await broadcast, { b: 3 });
  const first = requests[0];
  assert.equal(first?.method, "GET");
  assert.equal(first?.headers["X-Phoenix-AuthToken"], "lp-auth");
  assert.equal(first?.headers["X-Phoenix-Longpoll-Token"], undefined, "no session token before the session exists");
  const later = requests.filter((r) => r.headers["X-Phoenix-Longpoll-Token"] !== undefined);
  assert.ok(later.length > 0);
  for (const r of later) {
    const url = new URL(r.url);
    assert.equal(url.searchParams.getAll("token").at(-1), r.headers["X-Phoenix-Longpoll-Token"], "the session token is the last token param");
    assert.equal(url.searchParams.getAll("token")[0], "user-token", "the user's own token param is kept");
  }
  const posts = requests.filter((r) => r.method === "POST");
  assert.ok(posts.every((p) => p.headers["Content-Type"] === "application/x-ndjson"));
});

test("pushes in one tick are batched; a POST carries at most 100 lines; binary lines are base64", async () => {
  const socket = clientSocket(server.socketUrl, { ...lp, params: { user: "lp2" } });
  const t = topic();
  const channel = socket.channel(t);
  await channel.joined();
  requests.length = 0;
  const replies = Array.from({ length: 150 }, (_, n) => channel.call("ping", { n }, 5000));
  const results = await within(Promise.all(replies), 8000, "150 replies");
  assert.deepEqual(results.map((r) => (r as { n: number }).n), Array.from({ length: 150 }, (_, n) => n));
  const posts = requests.filter((r) => r.method === "POST").map((r) => (r.body ?? "").split("\n").length);
  assert.deepEqual(posts, [100, 50]);
  assert.deepEqual(await channel.call("binary_ack", new Uint8Array([0, 255, 1])), { size: 3, hex: "00ff01" });
  const binaryPost = requests.filter((r) => r.method === "POST").at(-1);
  assert.ok(binaryPost?.body && !binaryPost.body.startsWith("["), "a base64 line");
});

test("presence over long-poll", async () => {
  const t = topic("presence");
  const socket = clientSocket(server.socketUrl, { ...lp, params: { user: "lp-dave" } });
  const channel = socket.channel(t);
  const presence = new Presence(channel);
  channel.join();
  const ws = clientSocket(server.socketUrl, { params: { user: "ws-erin" } });
  const wsChannel = ws.channel(t);
  await wsChannel.joined();
  await waitUntil(() => presence.list((k) => k).sort().join() === "lp-dave,ws-erin", 4000, "both listed over long-poll");
  wsChannel.leave();
  await waitUntil(() => presence.list((k) => k).join() === "lp-dave", 4000, "leave seen over long-poll");
});

test("a lost session (410 while holding a token) reconnects and rejoins", async () => {
  const user = `lp-gone-${Date.now()}`;
  const socket = clientSocket(server.socketUrl, { ...lp, params: { user } });
  const errors: unknown[] = [];
  socket.onError((e) => errors.push(e));
  const channel = socket.channel(topic());
  await channel.joined();
  const firstJoinRef = channel.joinRef();
  server.endpoint.disconnect(`user_socket:${user}`);
  await waitUntil(() => errors.includes(410), 4000, "session gone (410)");
  await waitUntil(() => channel.state === "joined" && channel.joinRef() !== firstJoinRef, 4000, "rejoined on a new session");
  // (the GET that found the session gone may itself have opened an orphan session: 2 or 3 connects)
  assert.ok(server.connects.filter((c) => c.params.user === user).length >= 2);
});

test("a refused connect over long-poll reports 403", async () => {
  const socket = clientSocket(server.socketUrl, { ...lp, params: { token: "bad" }, reconnectAfterMs: () => 10_000 });
  const errors: unknown[] = [];
  socket.onError((e) => errors.push(e));
  await waitUntil(() => errors.includes(403), 3000, "403");
  assert.equal(socket.isConnected(), false);
});

class MemoryStorage implements SessionStore {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null { return this.items.get(key) ?? null; }
  setItem(key: string, value: string): void { this.items.set(key, value); }
}

test("longPollFallbackMs: a refused WebSocket falls back to long-poll, remembered for the next socket", async () => {
  const storage = new MemoryStorage();
  const user = `fallback-${Date.now()}`;
  const socket = clientSocket(server.socketUrl, { params: { user, no_ws: "1" }, longPollFallbackMs: 2000, sessionStorage: storage, reconnectAfterMs: () => 50 });
  const channel = socket.channel(topic());
  await within(channel.joined(), 4000, "joined after the fallback");
  assert.equal(socket.transport, LongPoll);
  assert.ok(socket.conn instanceof LongPoll);
  assert.deepEqual(server.connects.filter((c) => c.params.user === user).map((c) => c.transport), ["websocket", "longpoll"]);
  assert.deepEqual(await channel.call("ping", { via: "lp" }), { via: "lp" });
  await waitUntil(() => storage.items.get("phx:fallback:LongPoll") === "true", 1000, "fallback remembered");
  // a new socket in the same "session" goes straight to long-poll
  const second = clientSocket(server.socketUrl, { params: { user: `${user}-2` }, longPollFallbackMs: 2000, sessionStorage: storage });
  await connected(second, 3000);
  assert.deepEqual(server.connects.filter((c) => c.params.user === `${user}-2`).map((c) => c.transport), ["longpoll"]);
});

test("longPollFallbackMs with a healthy WebSocket stays on the WebSocket", async () => {
  const storage = new MemoryStorage();
  const socket = clientSocket(server.socketUrl, { params: { user: "healthy" }, longPollFallbackMs: 300, sessionStorage: storage });
  const channel = socket.channel(topic());
  await channel.joined();
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.notEqual(socket.transport, LongPoll);
  assert.equal(socket.primaryPassedHealthCheck, true);
  assert.equal(storage.items.size, 0);
  await inState(channel, "joined");
});
