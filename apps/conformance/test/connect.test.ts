// §10 items 1, 2, 4, 5, 6 (partial), 7 (partial), 8: transport, handshake, serializer negotiation,
// heartbeat. The phoenix.js scenarios run over every transport (`[websocket]`, `[longpoll]`); the
// raw handshake checks are WebSocket-only (long-poll's own are in longpoll.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  RawClient, asV2, connected, delay, handshake, handshakeStatus, joinOk, nextEvent, phxSocket, topic, transports, useServer,
  waitUntil, type WireEntry,
} from "./harness.js";

const server = useServer();

for (const via of transports) {
  test(`1 [${via}]: phoenix.js connects to /socket/${via}?vsn=2.0.0 and connect params reach connect`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { via, params: { user: "alice" } });
    await connected(phx);
    assert.equal(phx.socket.isConnected(), true);
    const construct = phx.log.find((e) => e.what === "construct");
    assert.ok(construct?.url, "transport constructed with a URL");
    const url = new URL(construct.url);
    assert.equal(url.pathname, `/socket/${via}`);
    assert.equal(url.protocol, via === "websocket" ? "ws:" : "http:");
    assert.equal(url.searchParams.get("vsn"), "2.0.0");
    assert.equal(url.searchParams.get("user"), "alice");
    // the `user` connect param becomes the `user` assign, reported back by handle_out as seen_by
    const t = topic("connect-params");
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const filtered = nextEvent(phx, ch, "filtered");
    ch.push("intercepted", { probe: 1 });
    assert.deepEqual(await filtered, { probe: 1, seen_by: "alice" });
  });

  test(`1 [${via}]: without a user param the connect callback assigns the default user "anon"`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { via });
    await connected(phx);
    const t = topic("anon");
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const filtered = nextEvent(phx, ch, "filtered");
    ch.push("intercepted", {});
    assert.deepEqual(await filtered, { seen_by: "anon" });
  });

  test(`2 [${via}]: phoenix.js against a refusing connect: onError fires and it keeps retrying per reconnectAfterMs`, { timeout: 10_000 }, async (tc) => {
    const tries: number[] = [];
    let errors = 0;
    const phx = phxSocket(server, { via,
      params: { token: "bad" },
      connect: false,
      reconnectAfterMs: (n) => { tries.push(n); return [10, 50, 100, 150, 200, 250, 500, 1000, 2000][n - 1] ?? 5000; },
    });
    phx.socket.onError(() => { errors += 1; });
    phx.socket.connect();
    await waitUntil(() => errors >= 4, 3000, "four connection errors (initial attempt + 3 retries)",
      () => `errors=${errors} tries=${JSON.stringify(tries)}\n${phx.log.dump()}`);
    assert.equal(phx.socket.isConnected(), false);
    assert.deepEqual(tries.slice(0, 3), [1, 2, 3], "reconnectAfterMs consulted with increasing tries");
    const constructs = phx.log.all((e) => e.what === "construct");
    assert.ok(constructs.length >= 4, `at least 4 connection attempts, got ${constructs.length}`);
    const refusals = phx.log.all((e) => e.what === "error" && /\b403\b/.test(e.reason ?? ""));
    assert.ok(refusals.length >= 3, `handshakes refused with HTTP 403 (saw ${refusals.length})\n${phx.log.dump()}`);
    assert.equal(phx.log.find((e) => e.what === "open"), undefined, "never opened");
    // attempts follow the 10/50/100 ms backoff: the whole sequence of 4 attempts is well under 1 s
    const first = constructs[0]!, fourth = constructs[3]!;
    tc.diagnostic(`attempt times (ms): ${constructs.map((e) => e.at - first.at).join(", ")}`);
    assert.ok(fourth.at - first.at < 1500, `4 attempts took ${fourth.at - first.at} ms`);
  });

  test(`7 (partial) [${via}]: phoenix.js with authToken: websocket offers [phoenix, base64url.bearer.phx.<T>] and the server selects "phoenix"; long-poll sends X-Phoenix-AuthToken`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { via, authToken: "s3cret" });
    await connected(phx);
    const construct = phx.log.find((e) => e.what === "construct");
    assert.deepEqual(construct?.protocols, ["phoenix", "base64url.bearer.phx.czNjcmV0"]);
    if (via === "websocket") {
      const r = await handshake(server, { protocols: ["phoenix", "base64url.bearer.phx.czNjcmV0"] });
      assert.deepEqual(r, { status: 101, protocol: "phoenix" });
    } else {
      const gets = phx.log.all((e) => e.what === "request" && e.method === "GET");
      assert.ok(gets.length >= 1);
      for (const g of gets) assert.equal(g.headers?.["X-Phoenix-AuthToken"], "s3cret", "raw token in X-Phoenix-AuthToken on every GET");
    }
    // (that connect sees auth_token == "s3cret" is not observable through the conformance contract)
  });

  test(`8 [${via}]: socket.ping(cb) yields an RTT`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { via });
    await connected(phx);
    const rtt = await new Promise<number>((resolveP, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ping callback within 2 s\n${phx.log.dump()}`)), 2000);
      const pushed = phx.socket.ping((ms) => { clearTimeout(timer); resolveP(ms); });
      if (!pushed) { clearTimeout(timer); reject(new Error("ping returned false (not connected)")); }
    });
    assert.equal(typeof rtt, "number");
    assert.ok(rtt >= 0 && rtt < 2000, `rtt ${rtt}`);
    const hb = phx.log.find({ dir: "out", topic: "phoenix", event: "heartbeat" });
    assert.ok(hb, "ping sent a heartbeat");
    const v = asV2(hb)!;
    assert.equal(v[0], null, "heartbeat join_ref null");
    const reply = phx.log.find({ dir: "in", topic: "phoenix", ref: v[1] });
    assert.deepEqual(reply?.json, [null, v[1], "phoenix", "phx_reply", { status: "ok", response: {} }]);
    await delay(0);
  });
}

test("2: refused connect (token=bad) → HTTP 403 before the upgrade", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { params: { token: "bad" } }), 403);
  assert.equal(await handshakeStatus(server, { params: { token: "good" } }), 101, "a non-bad token is accepted");
  assert.equal(await handshakeStatus(server, { params: { token: "bad", user: "x" }, vsn: null }), 403, "refused with V1 as well");
});

test("4: vsn=3.0.0 and vsn=abc → HTTP 403; 1.0.0, 2.0.0 and a missing vsn upgrade", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { vsn: "3.0.0" }), 403, "vsn=3.0.0");
  assert.equal(await handshakeStatus(server, { vsn: "abc" }), 403, "vsn=abc");
  assert.equal(await handshakeStatus(server, { vsn: "2.0.0" }), 101, "vsn=2.0.0");
  assert.equal(await handshakeStatus(server, { vsn: "1.0.0" }), 101, "vsn=1.0.0");
  assert.equal(await handshakeStatus(server, { vsn: null }), 101, "no vsn");
});

function v1Keys(e: WireEntry): string[] {
  return Object.keys(e.json as object).sort();
}

test("5: no vsn → V1 JSON: join reply is a V1 object with exactly topic/event/payload/ref (no join_ref)", { timeout: 10_000 }, async () => {
  const c = await RawClient.connect(server, { vsn: null });
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

test("6 (partial): a handshake with an Origin header succeeds (origin check off); without Origin too", { timeout: 10_000 }, async () => {
  assert.equal(await handshakeStatus(server, { headers: { Origin: "https://evil.example.com" } }), 101);
  assert.equal(await handshakeStatus(server, { headers: { Origin: "null" } }), 101);
  assert.equal(await handshakeStatus(server), 101);
  const c = await RawClient.connect(server, { headers: { Origin: "http://other.example:8080" } });
  const hb = await c.heartbeat();
  assert.deepEqual(hb[4], { status: "ok", response: {} });
});

test("§1.4: subprotocols offered but none acceptable → HTTP 403; [\"phoenix\"] alone → 101 selecting phoenix", { timeout: 10_000 }, async () => {
  assert.equal((await handshake(server, { protocols: ["foo"] })).status, 403);
  assert.deepEqual(await handshake(server, { protocols: ["phoenix"] }), { status: 101, protocol: "phoenix" });
});

test("8: heartbeat on a connection with no channels → [null,\"5\",\"phoenix\",\"phx_reply\",{status ok, response {}}]", { timeout: 10_000 }, async () => {
  const c = await RawClient.connect(server);
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
