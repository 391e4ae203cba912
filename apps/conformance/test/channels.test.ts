// docs/protocol.md §10 items 13–15, 27, 28, 30, 33: unrouted topics, crashing joins, the channel limit, unjoined
// topics, stale join_refs, duplicate joins — with a hand-written ws client (raw frames, WebSocket
// only). The client-driven scenarios (10–14, 17–21, 29–34 over both transports) are in
// channels.scenarios.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawWebSocket, delay, topic, useServer } from "./harness/index.js";

const server = useServer();

test("raw: joining unrouted topics, including ones sharing a prefix with the route → error {reason:\"unmatched topic\"}, join_ref null (item 13)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  for (const raw of ["room:x", "echo", "ECHO:x", "xecho:x"]) {
    const { reply: r } = await c.join(raw, {}, "11");
    assert.deepEqual(r, [null, r[1], raw, "phx_reply", { status: "error", response: { reason: "unmatched topic" } }], `topic ${raw}`);
  }
});

test("raw: a join callback that throws → error {reason:\"join crashed\"} with the join_ref echoed; the connection survives (item 14)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t2 = topic("join-crash-raw");
  const { reply } = await c.join(t2, { crash: true }, "42");
  assert.deepEqual(reply, ["42", reply[1], t2, "phx_reply", { status: "error", response: { reason: "join crashed" } }]);
  assert.deepEqual((await c.heartbeat())[4], { status: "ok", response: {} });
  const jr = await c.joinOk(t2, {}, "43");
  assert.equal(jr, "43");
});

test("100 channels joined → the 101st join errors {reason:\"too many channels joined\"} with its join_ref (item 15)", { timeout: 15_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const base = topic("many");
  const refs: string[] = [];
  for (let i = 0; i < 100; i++) {
    const ref = c.nextRef();
    refs.push(ref);
    c.push(ref, `${base}:${i}`, "phx_join", {}, ref);
  }
  for (let i = 0; i < 100; i++) {
    const r = await c.reply(`${base}:${i}`, refs[i]!, 5000);
    assert.equal((r[4] as { status: string }).status, "ok", `join #${i + 1}: ${JSON.stringify(r)}`);
  }
  const { reply } = await c.join(`${base}:100`, {}, "jr-101");
  assert.deepEqual(reply, ["jr-101", reply[1], `${base}:100`, "phx_reply", { status: "error", response: { reason: "too many channels joined" } }]);
  // leaving one frees a slot
  const leaveRef = c.push(refs[0]!, `${base}:0`, "phx_leave", {});
  await c.reply(`${base}:0`, leaveRef);
  await c.log.wait({ dir: "in", topic: `${base}:0`, event: "phx_close" }, "phx_close after leave");
  const jr = await c.joinOk(`${base}:100`, {}, "jr-101b");
  assert.equal(jr, "jr-101b");
});

test("a push to a topic never joined → error {reason:\"unmatched topic\"}, join_ref null (item 27)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  for (const [t, jr] of [["room:x", null], [topic("never"), null], [topic("never"), "7"]] as const) {
    const r = await c.call(jr, t, "ping", { a: 1 });
    assert.deepEqual(r, [null, r[1], t, "phx_reply", { status: "error", response: { reason: "unmatched topic" } }], `topic ${t} join_ref ${jr}`);
  }
  assert.ok(c.isOpen);
});

test("a push with a stale join_ref → dropped silently; with a null join_ref → delivered (item 28)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t = topic("stale");
  assert.equal(await c.joinOk(t, {}, "1"), "1");
  const from = c.log.nextSeq;
  const staleRef = c.push("99", t, "ping", { stale: true });
  c.push("99", t, "push", { stale: true });
  await c.log.expectNone((e) => e.dir === "in", "frame in response to stale-join_ref messages", 500, from);
  assert.equal(c.log.find({ dir: "in", ref: staleRef }), undefined);
  const r = await c.call(null, t, "ping", { fresh: true });
  assert.deepEqual(r, ["1", r[1], t, "phx_reply", { status: "ok", response: { fresh: true } }]);
  const r2 = await c.call("1", t, "ping", { current: true });
  assert.deepEqual(r2, ["1", r2[1], t, "phx_reply", { status: "ok", response: { current: true } }]);
});

test("phx_leave for a topic never joined → ok {} with join_ref echoed (item 30)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t = topic("leave-unjoined");
  const r = await c.call("9", t, "phx_leave", {});
  assert.deepEqual(r, ["9", r[1], t, "phx_reply", { status: "ok", response: {} }]);
  const r2 = await c.call("9", "room:x", "phx_leave", {});
  assert.deepEqual(r2, ["9", r2[1], "room:x", "phx_reply", { status: "ok", response: {} }]);
});

test("joining a joined topic again on one connection → ok for the new join_ref and phx_close for the old one (item 33)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t = topic("dup");
  assert.equal(await c.joinOk(t, {}, "1"), "1");
  const from = c.log.nextSeq;
  const { reply } = await c.join(t, { second: true }, "3");
  assert.deepEqual(reply, ["3", reply[1], t, "phx_reply", { status: "ok", response: { topic: t, params: { second: true } } }]);
  const close = await c.log.wait({ dir: "in", topic: t, event: "phx_close" }, "phx_close for the old join_ref", 3000, from);
  assert.deepEqual(close.json, ["1", "1", t, "phx_close", {}]);
  assert.equal(c.log.find({ dir: "in", topic: t, event: "phx_close", joinRef: "3" }), undefined, "the new channel is not closed");
  // the new channel is the live one; the old join_ref is now stale
  const r = await c.call("3", t, "ping", { n: 3 });
  assert.deepEqual(r, ["3", r[1], t, "phx_reply", { status: "ok", response: { n: 3 } }]);
  const staleFrom = c.log.nextSeq;
  c.push("1", t, "ping", { n: 1 });
  await c.log.expectNone((e) => e.dir === "in", "reply to the old join_ref", 400, staleFrom);
  // exactly one subscriber remains: one broadcast frame, not two
  const bFrom = c.log.nextSeq;
  c.push("3", t, "broadcast", { once: true });
  await c.log.wait({ dir: "in", topic: t, event: "broadcasted" }, "broadcast", 3000, bFrom);
  await delay(300);
  assert.equal(c.log.all({ dir: "in", topic: t, event: "broadcasted" }, bFrom).length, 1, `one broadcast frame\n${c.log.dump()}`);
});
