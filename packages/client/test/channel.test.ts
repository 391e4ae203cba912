/**
 * Channel: join/rejoin, states, buffering before join, push and join timeouts, the promise API
 * (`call`, `joined`), crash → rejoin with re-evaluated params, stale join_refs, close and leave.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ChannelClosedError, PushError, PushTimeout } from "../src/index.js";
import {
  clientSocket, connected, framesOf, inState, nextEvent, recordingTransport, topic, useCleanup, type Frame,
} from "./support/client.js";
import { delay, startServer, waitUntil, within, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });
useCleanup();

const fastRejoin = { rejoinAfterMs: () => 50, reconnectAfterMs: () => 20 };

test("join ok: receive('ok') with the response, state joined, join_ref = the join's ref", async () => {
  const socket = clientSocket(server.socketUrl);
  const t = topic();
  const channel = socket.channel(t, { hello: "world" });
  assert.equal(channel.state, "closed");
  const response = await within(new Promise((resolve) => channel.join().receive("ok", resolve)), 3000, "join ok");
  assert.deepEqual(response, { topic: t, params: { hello: "world" } });
  assert.equal(channel.state, "joined");
  assert.equal(server.joins.find((j) => j.topic === t)?.joinRef, channel.joinRef());
  assert.throws(() => channel.join(), /join multiple times/);
});

test("join error: receive('error'), state errored, rejoined with backoff; joined() rejects with PushError", async () => {
  const socket = clientSocket(server.socketUrl, fastRejoin);
  const t = topic();
  const channel = socket.channel(t, { reject: true });
  const joined = channel.joined();
  const error = await joined.then(() => assert.fail("joined() resolved"), (e: unknown) => e);
  assert.ok(error instanceof PushError);
  assert.equal(error.status, "error");
  assert.deepEqual(error.response, { reason: "rejected" });
  assert.equal(channel.state, "errored");
  await waitUntil(() => server.joins.filter((j) => j.topic === t).length >= 3, 3000, "rejected joins retried");
  channel.leave();
  await inState(channel, "closed");
});

test("pushes before connect and before the join reply are buffered and sent after join, in order", async () => {
  const frames: Frame[] = [];
  const socket = clientSocket(server.socketUrl, { connect: false, transport: recordingTransport(frames) });
  const t = topic();
  const channel = socket.channel(t, { delay_ms: 100 });
  channel.join();
  const replies = [1, 2, 3].map((n) => channel.call("ping", { n }));
  assert.equal(channel.state, "joining");
  socket.connect();
  assert.deepEqual(await within(Promise.all(replies), 3000, "replies"), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  const out = frames.filter((f) => f.dir === "out" && f.json?.[2] === t).map((f) => f.json?.[3]);
  assert.deepEqual(out, ["phx_join", "ping", "ping", "ping"], "pushes held until the join was answered");
});

test("a buffered push times out while not joined and is then never sent", async () => {
  const socket = clientSocket(server.socketUrl, { connect: false });
  const t = topic();
  const channel = socket.channel(t);
  channel.join();
  const status = await within(new Promise<string>((resolve) => {
    channel.push("ping", { late: true }, 100).receive("timeout", () => resolve("timeout")).receive("ok", () => resolve("ok"));
  }), 2000, "buffered push timeout");
  assert.equal(status, "timeout");
  socket.connect();
  await channel.joined();
  await channel.call("ping", { marker: true });
  assert.equal(server.events.filter((e) => e.topic === t && (e.payload as { late?: boolean }).late).length, 0);
});

test("push timeout: receive('timeout') and call() rejects with PushTimeout", async () => {
  const socket = clientSocket(server.socketUrl);
  const channel = socket.channel(topic());
  await channel.joined();
  const status = await within(new Promise<string>((resolve) => {
    channel.push("noreply", {}, 150).receive("timeout", () => resolve("timeout"));
  }), 2000, "timeout");
  assert.equal(status, "timeout");
  const error = await channel.call("noreply", {}, 150).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof PushTimeout);
  assert.equal(error.timeout, 150);
  assert.equal(error.event, "noreply");
});

test("call(): resolves with the ok response, rejects with PushError for error and custom statuses", async () => {
  const socket = clientSocket(server.socketUrl);
  const channel = socket.channel(topic());
  await assert.rejects(channel.call("ping", {}), /before joining/);
  const response = await channel.joined();
  assert.ok(response !== null && typeof response === "object");
  assert.deepEqual(await channel.joined(), response, "joined() resolves at once when joined");
  assert.deepEqual(await channel.call("ping", { a: [1, { b: null }] }), { a: [1, { b: null }] });
  const err = await channel.call("error_reply", { why: "no" }).catch((e: unknown) => e);
  assert.ok(err instanceof PushError);
  assert.equal(err.status, "error");
  assert.deepEqual(err.response, { why: "no" });
  const queued = await channel.call("custom_status", { pos: 3 }).catch((e: unknown) => e);
  assert.ok(queued instanceof PushError);
  assert.equal(queued.status, "queued");
  const seen = await within(new Promise((resolve) => channel.push("custom_status", { pos: 4 }).receive("queued", resolve)), 2000, "queued");
  assert.deepEqual(seen, { pos: 4 });
});

test("join timeout: receive('timeout'), phx_leave with the timed-out join_ref, then a rejoin succeeds", async () => {
  const frames: Frame[] = [];
  let attempt = 0;
  const socket = clientSocket(server.socketUrl, { ...fastRejoin, transport: recordingTransport(frames) });
  const t = topic();
  const channel = socket.channel(t, () => ({ delay_ms: ++attempt === 1 ? 600 : 0 }));
  const timedOut = new Promise<void>((resolve) => channel.join(150).receive("timeout", () => resolve()));
  const first = await channel.joined().then(() => null, (e: unknown) => e);
  assert.ok(first instanceof PushTimeout, "joined() rejects on the timeout");
  await within(timedOut, 2000, "join timeout");
  const joins = framesOf(frames, "out", t, "phx_join");
  const leaves = framesOf(frames, "out", t, "phx_leave");
  assert.equal(leaves[0]?.[0], joins[0]?.[1], "the leave carries the timed-out join_ref");
  await inState(channel, "joined", 3000);
  assert.notEqual(channel.joinRef(), joins[0]?.[1]);
});

test("crash: onError with the server's reason, rejoin with re-evaluated params (last_seen_id)", async () => {
  let lastSeen = 0;
  const socket = clientSocket(server.socketUrl, fastRejoin);
  const t = topic();
  const channel = socket.channel(t, () => ({ last_seen_id: lastSeen }));
  const errors: unknown[] = [];
  channel.onError((reason) => errors.push(reason));
  channel.on("pushed", (payload) => { lastSeen = (payload as { id: number }).id; });
  await channel.joined();
  const firstJoinRef = channel.joinRef();
  await channel.call("push", { id: 42 });
  await waitUntil(() => lastSeen === 42, 1000, "pushed");
  channel.push("crash", {});
  await waitUntil(() => errors.length === 1, 2000, "onError");
  assert.deepEqual(errors[0], { reason: "channel_crash" });
  await inState(channel, "joined");
  assert.notEqual(channel.joinRef(), firstJoinRef);
  const joins = server.joins.filter((j) => j.topic === t).map((j) => j.params);
  assert.deepEqual(joins, [{ last_seen_id: 0 }, { last_seen_id: 42 }]);
});

test("messages with a stale join_ref are dropped; current and null join_refs are delivered", async () => {
  const socket = clientSocket(server.socketUrl);
  const t = topic();
  const channel = socket.channel(t);
  await channel.joined();
  const got: unknown[] = [];
  channel.on("news", (payload) => got.push(payload));
  const deliver = (joinRef: string | null, n: number): void => {
    socket.conn?.onmessage?.({ data: JSON.stringify([joinRef, null, t, "news", { n }]) });
  };
  deliver("999999", 1);
  deliver(channel.joinRef(), 2);
  deliver(null, 3);
  assert.deepEqual(got, [{ n: 2 }, { n: 3 }]);
});

test("server stop → phx_close: onClose, state closed, removed from the socket, no rejoin", async () => {
  const socket = clientSocket(server.socketUrl, fastRejoin);
  const t = topic();
  const channel = socket.channel(t);
  let closed = 0;
  let errored = 0;
  channel.onClose(() => { closed += 1; });
  channel.onError(() => { errored += 1; });
  await channel.joined();
  channel.push("stop", {});
  await waitUntil(() => closed === 1, 2000, "onClose");
  assert.equal(channel.state, "closed");
  assert.equal(errored, 0);
  assert.ok(!socket.channels.includes(channel));
  await delay(200);
  assert.equal(server.joins.filter((j) => j.topic === t).length, 1, "no rejoin");
  await assert.rejects(channel.joined(), ChannelClosedError);
});

test("leave: receive('ok'), onClose('leave'), state closed; a duplicate topic channel leaves the first", async () => {
  const socket = clientSocket(server.socketUrl);
  const t = topic();
  const first = socket.channel(t);
  await first.joined();
  const second = socket.channel(t);
  await second.joined();
  await inState(first, "closed");
  assert.equal(second.state, "joined");
  const reasons: unknown[] = [];
  second.onClose((reason) => reasons.push(reason));
  await within(new Promise((resolve) => second.leave().receive("ok", resolve)), 2000, "leave ok");
  assert.equal(second.state, "closed");
  assert.deepEqual(reasons, ["leave"]);
  assert.equal(socket.channels.length, 0);
});

test("broadcasts and pushes reach channel.on; off stops them", async () => {
  const a = clientSocket(server.socketUrl);
  const b = clientSocket(server.socketUrl);
  await Promise.all([connected(a), connected(b)]);
  const t = topic();
  const ca = a.channel(t);
  const cb = b.channel(t);
  await Promise.all([ca.joined(), cb.joined()]);
  const atB = nextEvent(cb, "broadcasted");
  const atA = nextEvent(ca, "broadcasted");
  await ca.call("broadcast", { hi: 1 });
  assert.deepEqual(await atA, { hi: 1 });
  assert.deepEqual(await atB, { hi: 1 });
  const ref = cb.on("broadcasted", () => assert.fail("off'd binding called"));
  cb.off("broadcasted", ref);
  server.endpoint.broadcast(t, "broadcasted", { from: "server" });
  assert.deepEqual(await nextEvent(cb, "broadcasted"), { from: "server" });
});
