// docs/protocol.md §10 items 2, 4, 5, 6 (partial), 8, §1.4: handshake, serializer negotiation, heartbeat, with raw
// `ws` clients (WebSocket only; long-poll's own are in longpoll.test.ts). The client-driven
// scenarios (1, 2, 7, 8 over both transports) are in connect.scenarios.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RawWebSocket, handshake, handshakeStatus, topic, useServer, type WireEntry } from "./harness/index.js";

const server = useServer();

test("a refused connect (token=bad) → HTTP 403 before the upgrade (item 2)", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { params: { token: "bad" } }), 403);
  assert.equal(await handshakeStatus(server, { params: { token: "good" } }), 101, "a non-bad token is accepted");
  assert.equal(await handshakeStatus(server, { params: { token: "bad", user: "x" }, vsn: null }), 403, "refused with V1 as well");
});

test("vsn=3.0.0 and vsn=abc → HTTP 403; 1.0.0, 2.0.0 and a missing vsn upgrade (item 4)", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { vsn: "3.0.0" }), 403, "vsn=3.0.0");
  assert.equal(await handshakeStatus(server, { vsn: "abc" }), 403, "vsn=abc");
  assert.equal(await handshakeStatus(server, { vsn: "2.0.0" }), 101, "vsn=2.0.0");
  assert.equal(await handshakeStatus(server, { vsn: "1.0.0" }), 101, "vsn=1.0.0");
  assert.equal(await handshakeStatus(server, { vsn: null }), 101, "no vsn");
});

function v1Keys(e: WireEntry): string[] {
  return Object.keys(e.json as object).sort();
}

test("no vsn → V1 JSON: the join reply is a V1 object with exactly topic/event/payload/ref (no join_ref) (item 5)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server, { vsn: null });
  const t = topic("v1");
  c.sendJson({ topic: t, event: "phx_join", payload: { hello: "v1" }, ref: "1" });
  const join = await c.log.wait({ dir: "in", v1: true, topic: t, event: "phx_reply", ref: "1" }, "V1 join reply");
  assert.deepEqual(v1Keys(join), ["event", "payload", "ref", "topic"], `exact V1 keys, got ${join.text}`);
  assert.deepEqual(join.json, { topic: t, event: "phx_reply", ref: "1", payload: { status: "ok", response: { topic: t, params: { hello: "v1" } } } });

  // a V1 push without join_ref is delivered (channel join_ref falls back to the join's ref)
  c.sendJson({ topic: t, event: "ping", payload: { n: 1 }, ref: "2" });
  const ping = await c.log.wait({ dir: "in", v1: true, topic: t, event: "phx_reply", ref: "2" }, "V1 ping reply");
  assert.deepEqual(v1Keys(ping), ["event", "payload", "ref", "topic"]);
  assert.deepEqual(ping.json, { topic: t, event: "phx_reply", ref: "2", payload: { status: "ok", response: { n: 1 } } });

  // a channel push in V1: {"topic","event","payload","ref":null}, no join_ref key
  c.sendJson({ topic: t, event: "push", payload: { m: 2 }, ref: "3", join_ref: "1" });
  const pushed = await c.log.wait({ dir: "in", v1: true, topic: t, event: "pushed" }, "V1 push");
  assert.deepEqual(v1Keys(pushed), ["event", "payload", "ref", "topic"]);
  assert.deepEqual(pushed.json, { topic: t, event: "pushed", ref: null, payload: { m: 2 } });

  // a broadcast in V1
  c.sendJson({ topic: t, event: "broadcast", payload: { b: 3 }, ref: "4", join_ref: "1" });
  const bc = await c.log.wait({ dir: "in", v1: true, topic: t, event: "broadcasted" }, "V1 broadcast");
  assert.deepEqual(bc.json, { topic: t, event: "broadcasted", ref: null, payload: { b: 3 } });

  // heartbeat in V1
  c.sendJson({ topic: "phoenix", event: "heartbeat", payload: {}, ref: "5" });
  const hb = await c.log.wait({ dir: "in", v1: true, topic: "phoenix", ref: "5" }, "V1 heartbeat reply");
  assert.deepEqual(hb.json, { topic: "phoenix", event: "phx_reply", ref: "5", payload: { status: "ok", response: {} } });

  // no frame on a V1 connection ever carries join_ref
  for (const e of c.log.all({ dir: "in", v1: true })) {
    assert.ok(!Object.hasOwn(e.json as object, "join_ref"), `V1 frame with join_ref: ${e.text}`);
  }
  assert.equal(c.log.find((e) => e.dir === "in" && Array.isArray(e.json)), undefined, "no V2 arrays on a V1 connection");
});

test("a handshake with an Origin header succeeds (origin check off); without Origin too (item 6, partial)", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { headers: { Origin: "https://evil.example.com" } }), 101);
  assert.equal(await handshakeStatus(server, { headers: { Origin: "null" } }), 101);
  assert.equal(await handshakeStatus(server), 101);
  const c = await RawWebSocket.connect(server, { headers: { Origin: "http://other.example:8080" } });
  const hb = await c.heartbeat();
  assert.deepEqual(hb[4], { status: "ok", response: {} });
});

test("subprotocols offered but none acceptable → HTTP 403; [\"phoenix\"] alone → 101 selecting phoenix", { timeout: 10_000 }, async () => {
  assert.equal((await handshake(server, { protocols: ["foo"] })).status, 403);
  assert.deepEqual(await handshake(server, { protocols: ["phoenix"] }), { status: 101, protocol: "phoenix" });
});

test("a heartbeat on a connection with no channels → [null,\"5\",\"phoenix\",\"phx_reply\",{status ok, response {}}] (item 8)", { timeout: 10_000 }, async () => {
  const c = await RawWebSocket.connect(server);
  c.sendJson([null, "5", "phoenix", "heartbeat", {}]);
  const reply = await c.log.wait({ dir: "in", ref: "5" }, "heartbeat reply ref 5");
  assert.equal(reply.text !== undefined, true, "text frame");
  assert.deepEqual(reply.json, [null, "5", "phoenix", "phx_reply", { status: "ok", response: {} }]);
  // also answered when channels are joined, join_ref still null
  const t = topic("hb");
  await c.joinOk(t);
  c.sendJson([null, "77", "phoenix", "heartbeat", {}]);
  const again = await c.log.wait({ dir: "in", ref: "77" }, "heartbeat reply ref 77");
  assert.deepEqual(again.json, [null, "77", "phoenix", "phx_reply", { status: "ok", response: {} }]);
});
