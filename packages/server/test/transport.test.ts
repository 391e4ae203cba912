/** Transport-level behaviour: idle timeout, heartbeats, frame size limit, fastlane encoding, disconnect. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { defineChannel, defineSocket, ok, V1Serializer, V2Serializer } from "../src/index.js";
import { serverPool } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";

const Room = defineChannel({ join: () => ok() });
const socket = defineSocket<{ user: string }>({
  connect: (params) => ({ user: String(params.user ?? "anon") }),
  id: (s) => `user:${s.assigns.user}`,
  channels: { "room:*": Room },
});

const pool = serverPool({ socket });
const start = pool.start;
after(() => pool.closeAll());

test("9: a silent connection is closed after the idle timeout; heartbeats keep one open", async () => {
  const server = await start({ idleTimeoutMs: 300 });
  const silent = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  const chatty = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  const started = Date.now();
  let ref = 0;
  const beat = setInterval(() => chatty.send([null, String(++ref), "phoenix", "heartbeat", {}]), 100);
  try {
    assert.equal(await silent.closed(2000), 1001);
    assert.ok(Date.now() - started >= 280, "not before the timeout");
    await sleep(400);
    assert.equal(chatty.closeCode, undefined, "the heartbeating connection stays open");
  } finally {
    clearInterval(beat);
    chatty.close();
  }
});

test("8: heartbeats are answered on topic phoenix with join_ref null", async () => {
  const server = await start();
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send([null, "5", "phoenix", "heartbeat", {}]);
  assert.deepEqual(await client.reply("5"), [null, "5", "phoenix", "phx_reply", { status: "ok", response: {} }]);
  client.close();
});

test("frames over maxFrameSize close the connection with 1009; the server keeps serving", async () => {
  const server = await start({ maxFrameSize: 1024 });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send(["1", "1", "room:big", "phx_join", { blob: "x".repeat(2000) }]);
  assert.equal(await client.closed(), 1009);
  const next = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  next.send(["1", "1", "room:big", "phx_join", {}]);
  assert.equal(((await next.reply("1"))[4] as { status: string }).status, "ok");
  next.close();
});

test("a broadcast is encoded once per serializer, whatever the number of subscribers", async () => {
  const server = await start();
  const v2 = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`)));
  const v1 = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(`${server.websocketUrl}`)));
  await Promise.all(v2.map((c) => { c.send(["1", "1", "room:fan", "phx_join", {}]); return c.reply("1"); }));
  await Promise.all(v1.map(async (c) => {
    c.sendRaw(JSON.stringify({ topic: "room:fan", event: "phx_join", payload: {}, ref: "1" }));
    await c.waitFor(() => c.received.find((r) => !r.binary && (r.json as { ref?: string }).ref === "1"), 2000);
  }));
  // Every encoding a serializer makes (of a message, or of a broadcast on its fastlane) is counted.
  const calls = { v1: 0, v2: 0 };
  const originals = [V1Serializer, V2Serializer].map((s) => ({ s, encode: s.encode, fastlane: s.fastlane }));
  for (const { s, encode, fastlane } of originals) {
    const count = (): void => { calls[s === V1Serializer ? "v1" : "v2"]++; };
    s.encode = (m) => { count(); return encode.call(s, m); };
    s.fastlane = (b) => { count(); return fastlane.call(s, b); };
  }
  try {
    server.endpoint.broadcast("room:fan", "news", { n: 1 });
  } finally {
    for (const { s, encode, fastlane } of originals) Object.assign(s, { encode, fastlane });
  }
  assert.deepEqual(calls, { v1: 1, v2: 1 });
  await Promise.all(v2.map((c) => c.next((f) => f[3] === "news")));
  for (const c of v2) assert.deepEqual(c.received.at(-1), { binary: false, json: [null, null, "room:fan", "news", { n: 1 }] });
  await Promise.all(v1.map((c) => c.waitFor(() => c.received.find((r) => !r.binary && (r.json as { event?: string }).event === "news"), 2000)));
  for (const c of v1) assert.deepEqual(c.received.at(-1), { binary: false, json: { topic: "room:fan", event: "news", payload: { n: 1 }, ref: null } });
  for (const c of [...v1, ...v2]) c.close();
});

test("35: endpoint.disconnect closes every transport of that socket id with 1001, others stay", async () => {
  const server = await start();
  const a1 = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=a`);
  const a2 = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=a`);
  const b = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=b`);
  server.endpoint.disconnect("user:a");
  assert.equal(await a1.closed(), 1001);
  assert.equal(await a2.closed(), 1001);
  b.send([null, "1", "phoenix", "heartbeat", {}]);
  await b.reply("1");
  assert.equal(b.closeCode, undefined);
  b.close();
});
