// docs/protocol.md §10 items 37, 38, 39 and exact V2 frame shapes (§2.2, §2.3, §3.7), with raw `ws` clients. The
// client-driven binary scenarios (37, 38) are in wire.scenarios.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BYTES, bin,
  RawWebSocket, assertServerHealthy, delay, encodeClientPush, topic, useServer, waitUntil, type BinaryMessage, type WireEntry,
} from "./harness/index.js";

const server = useServer();


test("V2 wire shapes: reply, push, broadcast as exact JSON arrays (text frames)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t = topic("shapes");
  const { joinRef, reply } = await c.join(t, { p: 1 }, "j1");
  assert.equal(joinRef, "j1");
  assert.deepEqual(reply, ["j1", reply[1], t, "phx_reply", { status: "ok", response: { topic: t, params: { p: 1 } } }]);
  const r = await c.call("j1", t, "ping", { q: "x" });
  assert.deepEqual(r, ["j1", r[1], t, "phx_reply", { status: "ok", response: { q: "x" } }]);
  const from = c.log.nextSeq;
  c.push("j1", t, "push", { z: 1 });
  const pushed = await c.log.wait({ dir: "in", topic: t, event: "pushed" }, "push", 3000, from);
  assert.deepEqual(pushed.json, ["j1", null, t, "pushed", { z: 1 }]);
  c.push("j1", t, "broadcast", { w: 2 });
  const bc = await c.log.wait({ dir: "in", topic: t, event: "broadcasted" }, "broadcast", 3000, from);
  assert.deepEqual(bc.json, [null, null, t, "broadcasted", { w: 2 }]);
  // all of these are text frames
  for (const e of c.log.all((x) => x.dir === "in")) assert.ok(e.text !== undefined, "text frame");
  // extra elements after the fifth are ignored
  c.sendJson(["j1", "x6", t, "ping", { extra: true }, "ignored", 123]);
  const extra = await c.reply(t, "x6");
  assert.deepEqual(extra, ["j1", "x6", t, "phx_reply", { status: "ok", response: { extra: true } }]);
});

test("a raw kind 0 frame → a binary reply echoing the exact bytes (kind 1 with join_ref, ref, topic, status) (item 37)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t = topic("bin-raw");
  await c.joinOk(t, {}, "7");
  const payload = Buffer.from([...BYTES, ...Buffer.from("ünïcödé", "utf8")]);
  c.sendBinary(encodeClientPush("7", "8", t, "binary", payload));
  const e = await c.log.wait((x) => x.dir === "in" && x.bin !== undefined, "binary reply");
  const m = bin(e);
  assert.equal(m.kind, 1);
  if (m.kind !== 1) return;
  assert.deepEqual({ joinRef: m.joinRef, ref: m.ref, topic: m.topic, status: m.status }, { joinRef: "7", ref: "8", topic: t, status: "ok" });
  assert.deepEqual([...m.payload], [...payload]);
  // an empty binary payload works too
  c.sendBinary(encodeClientPush("7", "9", t, "binary", new Uint8Array(0)));
  const e2 = await c.log.wait((x) => x.dir === "in" && x.bin !== undefined && typeof x.binMsg === "object" && x.binMsg.kind === 1 && x.binMsg.ref === "9", "empty binary reply");
  assert.equal(bin(e2).payload.length, 0);
  // binary messages obey join_ref rules too: null join_ref delivered
  c.sendBinary(encodeClientPush(null, "10", t, "binary", Buffer.from([1, 2, 3])));
  const e3 = await c.log.wait((x) => x.dir === "in" && typeof x.binMsg === "object" && x.binMsg.kind === 1 && x.binMsg.ref === "10", "binary reply for null join_ref");
  const m3 = bin(e3);
  assert.ok(m3.kind === 1 && m3.joinRef === "7", "reply carries the channel's join_ref");
});

test("raw: a binary push → kind 0 frame without ref: [0][len jr][len topic][len event] jr topic event payload (item 38)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  const t2 = topic("bin-push-raw");
  await c.joinOk(t2, {}, "5");
  c.sendBinary(encodeClientPush("5", "6", t2, "push", Buffer.from(BYTES)));
  const re = await c.log.wait((x) => x.dir === "in" && x.bin !== undefined, "binary push");
  assert.deepEqual(re.bin, Buffer.concat([Buffer.from([0, 1, t2.length, 6]), Buffer.from(`5${t2}pushed`), Buffer.from(BYTES)]));
});

// Item 39. A client kind 0 frame cannot encode a topic longer than 255 bytes (1-byte length), so a
// binary payload cannot be pushed onto a 256-byte topic. The suite checks what is reachable:
//   (a) a 256-byte topic joins and works over text frames (JSON has no length limit);
//   (b) a channel whose join_ref is 256 bytes (joined over text) receives binary `push`/`binary`
//       events addressed with a null join_ref: the server's kind 0 push / kind 1 reply would need a
//       256-byte join_ref field, so they must be rejected (error reply, phx_error, nothing, or a
//       clean close), never sent malformed, and the server must stay up;
//   (c) at exactly 255 bytes everything still works.
const LONG_TOPIC = `echo:${"a".repeat(251)}`;

function assertNoMalformedBinary(c: RawWebSocket, from: number): void {
  for (const e of c.log.all((x) => x.dir === "in" && x.bin !== undefined, from)) {
    const m = e.binMsg;
    assert.ok(m !== undefined && typeof m !== "string", `malformed binary frame from the server: ${m} (hex ${e.bin!.subarray(0, 16).toString("hex")}…, ${e.bin!.length} bytes)`);
    const fields = m.kind === 0 ? [m.joinRef, m.topic, m.event] : m.kind === 1 ? [m.joinRef, m.ref, m.topic, m.status] : [m.topic, m.event];
    for (const f of fields) assert.ok(Buffer.byteLength(f) <= 255);
  }
}

test("a 256-byte topic: text join/push work; binary frames that would need a >255-byte field are not sent malformed (item 39)", { timeout: 15_000 }, async (tc) => {
  assert.equal(Buffer.byteLength(LONG_TOPIC), 256);
  const c = await RawWebSocket.connect(server);
  const jr = await c.joinOk(LONG_TOPIC, {}, "1");
  const r = await c.call(jr, LONG_TOPIC, "ping", { long: true });
  assert.deepEqual(r, ["1", r[1], LONG_TOPIC, "phx_reply", { status: "ok", response: { long: true } }]);
  // a JSON push / broadcast on the long topic are fine as text
  const from0 = c.log.nextSeq;
  c.push(jr, LONG_TOPIC, "push", { t: 1 });
  const p = await c.log.wait({ dir: "in", topic: LONG_TOPIC, event: "pushed" }, "text push on the long topic", 3000, from0);
  assert.deepEqual(p.json, ["1", null, LONG_TOPIC, "pushed", { t: 1 }]);

  // (b) channel whose join_ref is 256 bytes; binary frames addressed with a null join_ref
  const c2 = await RawWebSocket.connect(server);
  const t = topic("longref");
  const longRef = "r".repeat(256);
  await c2.joinOk(t, {}, longRef);
  const from = c2.log.nextSeq;
  c2.sendBinary(encodeClientPush(null, "50", t, "push", Buffer.from([1, 2, 3])));
  c2.sendBinary(encodeClientPush(null, "51", t, "binary", Buffer.from([4, 5, 6])));
  await delay(600);
  assertNoMalformedBinary(c2, from);
  // outcomes allowed: error reply, phx_error, nothing, or a clean close; not a malformed frame
  const outcomes = c2.log.all((x) => x.dir !== "out", from).map((x) => x.text ?? x.what ?? "<binary>");
  tc.diagnostic(`server response to binary events needing a 256-byte join_ref: ${outcomes.join(" | ").replaceAll(longRef, "<256-byte join_ref>") || "(nothing)"}`);
  if (c2.closeInfo) {
    assert.notEqual(c2.closeInfo.code, 1006, `connection must be closed cleanly, got 1006; events: ${outcomes.join(" | ")}`);
  } else {
    assert.deepEqual((await c2.heartbeat())[4], { status: "ok", response: {} }, "connection still usable");
  }
  // and the server is still up
  await assertServerHealthy(server);
});

test("a binary push/broadcast on a 255-byte topic (the maximum) is still well-formed (item 39)", { timeout: 10_000 }, async () => {
  const t = `echo:${"b".repeat(250)}`;
  assert.equal(Buffer.byteLength(t), 255);
  const c = await RawWebSocket.connect(server);
  await c.joinOk(t, {}, "2");
  const from = c.log.nextSeq;
  c.sendBinary(encodeClientPush("2", "3", t, "push", Buffer.from([7])));
  c.sendBinary(encodeClientPush("2", "4", t, "broadcast", Buffer.from([8])));
  c.sendBinary(encodeClientPush("2", "5", t, "binary", Buffer.from([9])));
  await waitUntil(() => c.log.all((x) => x.dir === "in" && x.bin !== undefined, from).length >= 3, 3000, "three binary frames", () => c.log.dump());
  assertNoMalformedBinary(c, from);
  const kinds = c.log.all((x) => x.dir === "in" && x.bin !== undefined, from).map((x) => (x.binMsg as BinaryMessage).kind).sort();
  assert.deepEqual(kinds, [0, 1, 2]);
});
