/** Heartbeats: sent every interval and answered by the server; a missing reply closes, errors channels and reconnects. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket as ServerSideSocket } from "ws";
import { clientSocket, connected, recordingTransport, topic, useCleanup, type Frame } from "./support/client.js";
import { delay, startServer, waitUntil, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });
useCleanup();

test("heartbeats go out every interval on topic phoenix and their replies keep the connection", async () => {
  const frames: Frame[] = [];
  const socket = clientSocket(server.socketUrl, { heartbeatIntervalMs: 80, transport: recordingTransport(frames) });
  let closes = 0;
  socket.onClose(() => { closes += 1; });
  await connected(socket);
  await delay(450);
  const beats = frames.filter((f) => f.dir === "out" && f.json?.[2] === "phoenix" && f.json[3] === "heartbeat");
  assert.ok(beats.length >= 3, `several heartbeats (got ${beats.length})`);
  assert.deepEqual(beats[0]?.json?.slice(0, 1), [null], "join_ref null");
  const replies = frames.filter((f) => f.dir === "in" && f.json?.[2] === "phoenix" && f.json[3] === "phx_reply");
  assert.ok(replies.length >= beats.length - 1);
  assert.equal(closes, 0);
  assert.ok(socket.isConnected());
});

test("heartbeat timeout: the connection is closed, channels error with heartbeat_timeout, the socket reconnects", async () => {
  // a server that accepts WebSockets and never answers anything
  const silent = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const connections: ServerSideSocket[] = [];
  silent.on("connection", (ws) => connections.push(ws));
  await new Promise<void>((resolve) => silent.once("listening", () => resolve()));
  const port = (silent.address() as AddressInfo).port;
  const socket = clientSocket(`ws://127.0.0.1:${port}/socket`, { heartbeatIntervalMs: 100, reconnectAfterMs: () => 30 });
  try {
    const closes: Array<number | undefined> = [];
    socket.onClose((e) => closes.push(e.code));
    const channel = socket.channel(topic());
    const errors: unknown[] = [];
    channel.onError((reason) => errors.push(reason));
    channel.join(1000);
    await connected(socket);
    await waitUntil(() => errors.length >= 1, 2000, "channel errored by the heartbeat timeout");
    assert.deepEqual(errors[0], { source: "transport", reason: "heartbeat_timeout" });
    assert.equal(channel.state, "errored");
    await waitUntil(() => connections.length >= 2, 3000, "a reconnect");
    assert.ok(closes.length >= 1, "onClose fired for the dead connection");
  } finally {
    await new Promise<void>((resolve) => socket.disconnect(resolve));
    for (const ws of connections) ws.terminate();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
});
