/**
 * Diagnostics: real WebSocket and long-poll traffic publishes the documented messages on
 * Cinder's `node:diagnostics_channel` channels — connect, close, frames in and out, join, leave,
 * handleIn, broadcast, errors and rate limits — to any number of subscribers, each message
 * naming the endpoint it happened on; nothing is published for an unsubscribed channel.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { channel, subscribe, unsubscribe } from "node:diagnostics_channel";
import {
  defineChannel, defineSocket, diagnosticsChannels, error, ok, PubSub, refuse, subscribeDiagnostics,
  type DiagnosticsChannelName, type DiagnosticsMessages,
} from "../src/index.js";
import { serverPool, type TestServer } from "./support/server.js";
import { RawClient } from "./support/raw-client.js";

const Room = defineChannel({
  join: (topic: string) => (topic === "room:closed" ? error({ reason: "closed" }) : ok()),
  handleIn(event: string, payload: unknown, socket) {
    if (event === "crash") throw new Error("boom");
    socket.broadcast("shout", payload);
    return ok({ heard: event });
  },
});
const socket = defineSocket({
  connect: (params) => (params.user === "refused" ? refuse(403) : {}),
  channels: { "room:*": Room },
});
const pool = serverPool({ socket });
after(() => pool.closeAll());

type Recorded = { [N in DiagnosticsChannelName]: { name: N; message: DiagnosticsMessages[N] } }[DiagnosticsChannelName];

/** Records every Cinder diagnostics message about `server` (its endpoint, or its PubSub), in order. */
function record(server: TestServer): { events: Recorded[]; of<N extends DiagnosticsChannelName>(name: N): Array<DiagnosticsMessages[N]>; stop(): void } {
  const events: Recorded[] = [];
  const stops = Object.values(diagnosticsChannels).map((name) => subscribeDiagnostics(name, (message: DiagnosticsMessages[typeof name]) => {
    const mine = "endpoint" in message ? message.endpoint === server.endpoint.id : message.pubsub === server.endpoint.pubsub;
    if (mine) events.push({ name, message } as Recorded);
  }));
  return {
    events,
    of: <N extends DiagnosticsChannelName>(name: N) =>
      events.filter((e) => e.name === name).map((e) => e.message as DiagnosticsMessages[N]),
    stop: () => { for (const stop of stops) stop(); },
  };
}

/** Replaces `durationMs` (checked to be a non-negative number) with "ms", so messages compare exactly. */
function timed<M extends { durationMs: number }>(messages: M[]): Array<Omit<M, "durationMs"> & { durationMs: "ms" }> {
  return messages.map((message) => {
    assert.ok(typeof message.durationMs === "number" && message.durationMs >= 0, `durationMs ${message.durationMs}`);
    return { ...message, durationMs: "ms" };
  });
}

test("a WebSocket session publishes connect, frames, join, handle_in, broadcast, leave, errors and close with the documented messages", async () => {
  const server = await pool.start({ pubsub: new PubSub() });
  const endpoint = server.endpoint.id;
  const recorder = record(server);
  await assert.rejects(RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=refused`));
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send(["1", "1", "room:t", "phx_join", {}]);
  await client.reply("1");
  client.send(["2", "2", "room:closed", "phx_join", {}]);
  await client.reply("2");
  client.send(["1", "3", "room:t", "shout", { a: 1 }]);
  await client.reply("3");
  client.send(["1", "4", "room:t", "crash", {}]);
  await client.next((f) => f[3] === "phx_error");
  client.sendRaw("not a frame");
  assert.equal(await client.closed(), 1007);
  await waitUntil(() => recorder.of("cinder:socket:close").length === 1);
  recorder.stop();

  assert.deepEqual(timed(recorder.of("cinder:socket:connect")), [
    { endpoint, transport: "websocket", accepted: false, status: 403, durationMs: "ms" },
    { endpoint, transport: "websocket", accepted: true, durationMs: "ms" },
  ]);
  assert.deepEqual(timed(recorder.of("cinder:channel:join")), [
    { endpoint, topic: "room:t", pattern: "room:*", status: "ok", durationMs: "ms" },
    { endpoint, topic: "room:closed", pattern: "room:*", status: "error", durationMs: "ms" },
  ]);
  assert.deepEqual(timed(recorder.of("cinder:channel:handle_in")), [
    { endpoint, topic: "room:t", pattern: "room:*", event: "shout", status: "ok", durationMs: "ms" },
    { endpoint, topic: "room:t", pattern: "room:*", event: "crash", status: "crash", durationMs: "ms" },
  ]);
  assert.deepEqual(recorder.of("cinder:pubsub:broadcast"), [
    { pubsub: server.endpoint.pubsub, topic: "room:t", event: "shout", subscribers: 1 },
  ]);
  assert.deepEqual(recorder.of("cinder:channel:leave"), [{ endpoint, topic: "room:t", pattern: "room:*", reason: "crash" }]);
  assert.deepEqual(recorder.of("cinder:error"), [
    { endpoint, kind: "channel_crash", topic: "room:t" },
    { endpoint, kind: "decode" },
  ]);
  // Five frames in (two joins, two pushes, the bad frame); out: two join replies, the shout,
  // its reply, the phx_error.
  assert.deepEqual(recorder.of("cinder:socket:message_in"), Array(5).fill({ endpoint, transport: "websocket" }));
  assert.deepEqual(recorder.of("cinder:socket:message_out"), Array(5).fill({ endpoint, transport: "websocket" }));
  assert.deepEqual(recorder.of("cinder:socket:close"), [{ endpoint, transport: "websocket" }]);
  assert.deepEqual(recorder.of("cinder:socket:rate_limited"), []);
  // The order of one push: in; the broadcast it makes, written to the subscriber and then
  // reported with its fan-out; handle_in once the handler returned; then the reply.
  const names = recorder.events.map((e) => e.name);
  const shout = names.indexOf("cinder:pubsub:broadcast");
  assert.deepEqual(names.slice(shout - 2, shout + 3), [
    "cinder:socket:message_in", "cinder:socket:message_out", "cinder:pubsub:broadcast", "cinder:channel:handle_in", "cinder:socket:message_out",
  ]);
});

test("a long-poll session publishes connect, frames and close with transport \"longpoll\"", async () => {
  const server = await pool.start({ pubsub: new PubSub(), longpoll: { windowMs: 200 } });
  const endpoint = server.endpoint.id;
  const base = `http://127.0.0.1:${server.port}/socket/longpoll`;
  const recorder = record(server);
  const refused = await (await fetch(`${base}?vsn=2.0.0&user=refused`)).json() as { status: number };
  assert.equal(refused.status, 403);
  const created = await (await fetch(`${base}?vsn=2.0.0`)).json() as { status: number; token: string };
  assert.equal(created.status, 410);
  const token = encodeURIComponent(created.token);
  const posted = await fetch(`${base}?vsn=2.0.0&token=${token}`, {
    method: "POST", headers: { "content-type": "application/x-ndjson" },
    body: [JSON.stringify(["1", "1", "room:lp", "phx_join", {}]), JSON.stringify(["1", "2", "room:lp", "hello", {}])].join("\n"),
  });
  assert.equal((await posted.json() as { status: number }).status, 200);
  const received: string[] = [];
  while (received.length < 3) {
    const polled = await (await fetch(`${base}?vsn=2.0.0&token=${token}`)).json() as { status: number; messages: string[] };
    assert.ok(polled.status === 200 || polled.status === 204, `poll status ${polled.status}`);
    received.push(...polled.messages);
  }
  await server.close();
  recorder.stop();

  assert.deepEqual(timed(recorder.of("cinder:socket:connect")), [
    { endpoint, transport: "longpoll", accepted: false, status: 403, durationMs: "ms" },
    { endpoint, transport: "longpoll", accepted: true, durationMs: "ms" },
  ]);
  assert.deepEqual(recorder.of("cinder:socket:message_in"), Array(2).fill({ endpoint, transport: "longpoll" }));
  // Join reply, the "hello" broadcast, its reply.
  assert.equal(received.length, 3);
  assert.deepEqual(recorder.of("cinder:socket:message_out"), Array(3).fill({ endpoint, transport: "longpoll" }));
  assert.deepEqual(recorder.of("cinder:channel:leave"), [{ endpoint, topic: "room:lp", pattern: "room:*", reason: "closed" }]);
  assert.deepEqual(recorder.of("cinder:socket:close"), [{ endpoint, transport: "longpoll" }]);
});

test("rate-limit refusals are published with what was refused", async () => {
  const server = await pool.start({ pubsub: new PubSub(), messageRate: { perSecond: 1, burst: 2 } });
  const recorder = record(server);
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send(["1", "1", "room:r", "phx_join", {}]);
  await client.reply("1");
  for (let i = 0; i < 4; i++) client.send(["1", `m${i}`, "room:r", "shout", {}]);
  await client.reply("m3");
  recorder.stop();
  client.close();
  const limited = recorder.of("cinder:socket:rate_limited");
  assert.ok(limited.length >= 1, "at least one push went over the limit");
  for (const message of limited) assert.deepEqual(message, { endpoint: server.endpoint.id, what: "message" });
});

test("any number of subscribers get each message; an unsubscribed channel has no subscribers, so nothing is built", async () => {
  const server = await pool.start({ pubsub: new PubSub() });
  const joinChannel = channel(diagnosticsChannels.join);
  assert.equal(joinChannel.hasSubscribers, false, "nobody listens before the test subscribes");
  const first: unknown[] = [];
  const second: unknown[] = [];
  const onFirst = (message: unknown): void => { first.push(message); };
  subscribe(diagnosticsChannels.join, onFirst);
  const stopSecond = subscribeDiagnostics("cinder:channel:join", (message) => { second.push(message); });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send(["1", "1", "room:many", "phx_join", {}]);
  await client.reply("1");
  unsubscribe(diagnosticsChannels.join, onFirst);
  stopSecond();
  assert.equal(joinChannel.hasSubscribers, false);
  client.send(["2", "2", "room:later", "phx_join", {}]);
  await client.reply("2");
  client.close();
  assert.equal(first.length, 1);
  assert.equal(second.length, 1);
  assert.equal(first[0], second[0], "both subscribers got the same message object");
});

async function waitUntil(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
