/**
 * Token refresh from @cinder/client against a real Cinder server (docs/protocol.md §11): with
 * `refreshToken`, the socket refreshes ahead of every expiry the server states, so the
 * connection and its channels outlive many token lifetimes without a reconnect or a rejoin; a
 * refreshed token the server refuses reaches `onRefreshError` and the socket is closed with 4003.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { accept, attach, defineChannel, defineSocket, ok, refuse, silentLogger } from "@cinder/server";
import { Socket as PhoenixSocket } from "phoenix";
import WebSocket from "ws";
import { keepTokenFresh, TokenRefreshError, type TransportCloseEvent } from "../src/index.js";
import { clientSocket, connected, inState, useCleanup } from "./support/client.js";
import { delay, waitUntil } from "./support/server.js";

useCleanup();

const TTL = 600;
/** Tokens are "<user>.<expires at>"; "bad" ones are refused. */
const token = (user: string, ttl = TTL): string => `${user}.${Date.now() + ttl}`;

const socket = defineSocket<{ user: string }>({
  connect(params) {
    const [user, exp] = String(params.token).split(".");
    if (user === undefined || user === "bad" || exp === undefined) return refuse(403, "bad token");
    return accept({ user }, { expiresAt: Number(exp) });
  },
  id: ({ assigns }) => `user:${assigns.user}`,
  channels: { "room:*": defineChannel({ join: () => ok(), handleIn: (_event: string, payload: unknown) => ok(payload) }) },
});
const server = createServer((_req, res) => res.writeHead(404).end());
const endpoint = attach(server, { socket, logger: silentLogger, checkOrigin: false });
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/socket`;
after(async () => {
  await endpoint.close();
  server.close();
});

test("refreshToken: the socket refreshes ahead of each expiry; channels stay joined with no reconnect or rejoin", async () => {
  let refreshes = 0;
  let opens = 0;
  const closes: TransportCloseEvent[] = [];
  const s = clientSocket(url, {
    params: () => ({ token: token("ann") }),
    refreshAheadMs: TTL / 2,
    refreshToken: async () => {
      refreshes++;
      await delay(5);
      return token("ann");
    },
  });
  s.onOpen(() => { opens++; });
  s.onClose((event) => { closes.push(event); });
  await connected(s);
  const rooms = [s.channel("room:1"), s.channel("room:2")];
  await Promise.all(rooms.map((room) => room.joined()));
  const joinRefs = rooms.map((room) => room.joinRef());
  await delay(TTL * 3);
  assert.ok(refreshes >= 4, `refreshed ahead of every expiry (${refreshes} refreshes in 3 lifetimes)`);
  assert.equal(opens, 1, "no reconnect");
  assert.deepEqual(closes, []);
  assert.deepEqual(rooms.map((room) => room.state), ["joined", "joined"]);
  assert.deepEqual(rooms.map((room) => room.joinRef()), joinRefs, "no rejoin");
  assert.deepEqual(await rooms[0]!.call("echo", { n: 1 }), { n: 1 });
  assert.ok(s.tokenExpiry !== null && s.tokenExpiry.expiresIn! > 0);
});

test("refreshToken giving a token the server refuses: onRefreshError gets the reason and the socket is closed with 4003", async () => {
  const errors: unknown[] = [];
  const closes: TransportCloseEvent[] = [];
  const s = clientSocket(url, {
    params: () => ({ token: token("bob") }),
    reconnectAfterMs: () => 60_000,
    refreshToken: () => "bad.0",
    onRefreshError: (error) => errors.push(error),
  });
  s.onClose((event) => { closes.push(event); });
  const room = s.channel("room:1");
  await room.joined();
  await waitUntil(() => closes.length > 0, TTL * 2, "the socket closed");
  assert.equal(closes[0]!.code, 4003);
  assert.equal(closes[0]!.reason, "bad token");
  assert.ok(errors[0] instanceof TokenRefreshError && errors[0].reason === "bad token", String(errors[0]));
  await inState(room, "errored");
});

test("without refreshToken the socket is closed at the expiry with 4001", async () => {
  const closes: TransportCloseEvent[] = [];
  const s = clientSocket(url, { params: () => ({ token: token("cy", 300) }), reconnectAfterMs: () => 60_000 });
  s.onClose((event) => { closes.push(event); });
  await connected(s);
  await waitUntil(() => closes.length > 0, 2000, "the socket closed");
  assert.deepEqual([closes[0]!.code, closes[0]!.reason], [4001, "token expired"]);
});

test("keepTokenFresh on an official phoenix.js socket: refreshed in-band, no reconnect, the channel stays joined", async () => {
  let refreshes = 0;
  let opens = 0;
  const phx = new PhoenixSocket(url, { transport: WebSocket, params: () => ({ token: token("dee") }) });
  const stop = keepTokenFresh(phx, {
    refreshAheadMs: TTL / 2,
    refreshToken: () => {
      refreshes++;
      return token("dee");
    },
  });
  phx.onOpen(() => { opens++; });
  phx.connect();
  try {
    const room = phx.channel("room:1");
    await new Promise((resolve, reject) => room.join().receive("ok", resolve).receive("error", reject));
    const joinRef = room.joinRef();
    await delay(TTL * 2.5);
    assert.ok(refreshes >= 3, `refreshed ahead of every expiry (${refreshes})`);
    assert.equal(opens, 1, "no reconnect");
    assert.equal(room.state, "joined");
    assert.equal(room.joinRef(), joinRef, "no rejoin");
  } finally {
    stop();
    phx.disconnect();
  }
});
