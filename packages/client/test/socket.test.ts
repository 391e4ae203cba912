/** Socket: connecting, params and authToken, callbacks, ping, refusal, reconnect after a server drop, disconnect. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Socket, defaultReconnectAfterMs, defaultRejoinAfterMs } from "../src/index.js";
import { clientSocket, connected, inState, recordingTransport, topic, useCleanup, type Frame } from "./support/client.js";
import { delay, startServer, waitUntil, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });
useCleanup();

test("connects with params then vsn in the URL; connect sees the params", async () => {
  const socket = clientSocket(server.socketUrl, { params: { user: "alice", tags: ["a", "b"], nested: { k: "v" } } });
  assert.equal(socket.endPointURL(),
    `${server.socketUrl}/websocket?user=alice&tags[0]=a&tags[1]=b&nested[k]=v&vsn=2.0.0`.replace(/\[/g, "%5B").replace(/\]/g, "%5D"));
  await connected(socket);
  assert.equal(socket.connectionState(), "open");
  const record = server.connects.find((c) => c.params.user === "alice");
  assert.ok(record, "connect saw the params");
  assert.equal(record.params.vsn, "2.0.0");
  assert.deepEqual({ ...(record.params.nested as object) }, { k: "v" });
});

test("defaults: jittered reconnect and rejoin backoffs, 10 s timeout, 30 s heartbeat", () => {
  const socket = new Socket("ws://127.0.0.1:1/socket");
  assert.equal(socket.reconnectAfterMs, defaultReconnectAfterMs);
  assert.equal(socket.rejoinAfterMs, defaultRejoinAfterMs);
  assert.equal(socket.timeout, 10_000);
  assert.equal(socket.heartbeatIntervalMs, 30_000);
  assert.equal(socket.vsn, "2.0.0");
  assert.equal(socket.isConnected(), false);
  assert.equal(socket.connectionState(), "closed");
});

test("authToken goes in the subprotocols; connect sees it", async () => {
  const frames: Frame[] = [];
  const token = "s3cret/token+with=stuff";
  const socket = clientSocket(server.socketUrl, { transport: recordingTransport(frames), authToken: () => token, params: { user: "tok" } });
  await connected(socket);
  const record = server.connects.find((c) => c.params.user === "tok");
  assert.equal(record?.authToken, token);
  assert.equal((socket.conn as unknown as { protocol: string }).protocol, "phoenix");
});

test("onOpen, onMessage, onClose callbacks; off removes them", async () => {
  const socket = clientSocket(server.socketUrl, { connect: false });
  let opens = 0;
  const messages: string[] = [];
  const closes: number[] = [];
  socket.onOpen(() => { opens += 1; });
  const msgRef = socket.onMessage((m) => { messages.push(`${m.topic}/${m.event}`); });
  socket.onClose((e) => { closes.push(e.code ?? -1); });
  socket.connect();
  await connected(socket);
  assert.equal(opens, 1);
  const rtt = await new Promise<number>((resolve) => assert.ok(socket.ping(resolve)));
  assert.ok(rtt >= 0 && rtt < 2000);
  assert.deepEqual(messages, ["phoenix/phx_reply"]);
  socket.off([msgRef]);
  await new Promise<number>((resolve) => socket.ping(resolve));
  assert.equal(messages.length, 1, "onMessage removed by off");
  await new Promise<void>((resolve) => socket.disconnect(resolve, 1000, "bye"));
  await waitUntil(() => closes.length === 1, 1000, "onClose");
  assert.equal(socket.ping(() => undefined), false, "ping while disconnected");
});

test("a refused connect fires onError and keeps retrying with the backoff", async () => {
  const errors: unknown[] = [];
  const before = server.connects.length;
  const socket = clientSocket(server.socketUrl, { params: { token: "bad" }, reconnectAfterMs: () => 30 });
  socket.onError((error) => errors.push(error));
  await waitUntil(() => server.connects.length - before >= 3 && errors.length >= 3, 3000, "three refused attempts");
  assert.equal(socket.isConnected(), false);
});

test("reconnects after the server drops the socket, with re-evaluated params; channels rejoin", async () => {
  let attempt = 0;
  const user = `drop-${Date.now()}`;
  const closes: number[] = [];
  const socket = clientSocket(server.socketUrl, { params: () => ({ user, attempt: ++attempt }), reconnectAfterMs: () => 20 });
  socket.onClose((e) => closes.push(e.code ?? -1));
  await connected(socket);
  const channel = socket.channel(topic());
  await channel.joined();
  const firstJoinRef = channel.joinRef();
  server.endpoint.disconnect(`user_socket:${user}`);
  await waitUntil(() => closes.length === 1, 2000, "the server's close");
  assert.equal(closes[0], 1001);
  await waitUntil(() => socket.isConnected() && channel.state === "joined" && channel.joinRef() !== firstJoinRef, 3000, "reconnected and rejoined");
  const attempts = server.connects.filter((c) => c.params.user === user).map((c) => c.params.attempt);
  assert.deepEqual(attempts, ["1", "2"], "params re-evaluated on the reconnect");
});

test("disconnect closes for good: no reconnect, channels error, connect() reconnects later", async () => {
  const user = `disc-${Date.now()}`;
  const socket = clientSocket(server.socketUrl, { params: { user }, reconnectAfterMs: () => 20 });
  await connected(socket);
  const channel = socket.channel(topic());
  await channel.joined();
  await new Promise<void>((resolve) => socket.disconnect(resolve));
  assert.equal(socket.isConnected(), false);
  assert.equal(channel.state, "errored");
  await delay(200);
  assert.equal(server.connects.filter((c) => c.params.user === user).length, 1, "no reconnect after disconnect");
  socket.connect();
  await connected(socket);
  await inState(channel, "joined");
});
