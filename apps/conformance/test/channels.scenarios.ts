// docs/protocol.md §10 items 10–14, 17–21, 29, 31, 32, 34 and `after` (sendAfter), driven by a client (phoenix.js
// or @cinder/client, see harness/clients.ts `clients`) over every transport (`[websocket]`, `[longpoll]`).
// Run by channels.phoenix.test.ts and channels.cinder.test.ts; the raw-frame scenarios are in
// channels.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  asV2, connected, delay, joinOk, nextEvent, outcome, phxSocket, server, topic, transports, waitUntil, type Client,
} from "./harness/index.js";

export function channelScenarios(client: Client): void {
  for (const via of transports) {

    test(`join ok → receive("ok"), state joined, reply join_ref equals its ref [${via}] [${client.name}] (item 10)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("join");
      const ch = phx.socket.channel(t);
      const response = await joinOk(phx, ch);
      assert.deepEqual(response, { topic: t, params: {} });
      assert.equal(ch.state, "joined");
      const sent = asV2(phx.log.find({ dir: "out", topic: t, event: "phx_join" })!)!;
      assert.equal(sent[0], sent[1], "the client's join: join_ref = ref");
      const reply = phx.log.find({ dir: "in", topic: t, event: "phx_reply", ref: sent[1] });
      assert.ok(reply, `join reply on the wire\n${phx.log.dump()}`);
      const v = asV2(reply)!;
      assert.equal(v[0], v[1], "reply join_ref equals its ref");
      assert.deepEqual(reply.json, [sent[0], sent[1], t, "phx_reply", { status: "ok", response: { topic: t, params: {} } }]);
    });

    test(`a join answering a map → receive("ok") gets that map [${via}] [${client.name}] (item 11)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("join-map");
      const ch = phx.socket.channel(t, { a: 1, nested: { b: [1, 2] } });
      const response = await joinOk(phx, ch);
      assert.deepEqual(response, { topic: t, params: { a: 1, nested: { b: [1, 2] } } });
    });

    test(`join refused → receive("error") {reason}, then phx_join re-sent with a new ref ~1 s later, then ~2 s after that [${via}] [${client.name}] (item 12)`, { timeout: 15_000 }, async (tc) => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("reject");
      const ch = phx.socket.channel(t, { reject: true });
      const first = await outcome(ch.join(), 3000, undefined, () => phx.log.dump());
      assert.deepEqual(first, { status: "error", response: { reason: "rejected" } });
      assert.equal(ch.state, "errored");
      const joins = () => phx.log.all({ dir: "out", topic: t, event: "phx_join" });
      const replies = () => phx.log.all({ dir: "in", topic: t, event: "phx_reply" });
      await waitUntil(() => joins().length >= 3 && replies().length >= 3, 5000, "three joins (initial + 2 rejoins) answered", () => phx.log.dump());
      const [j1, j2, j3] = joins().map((e) => ({ e, v: asV2(e)! }));
      const [r1, r2] = replies();
      // every reply is the same rejection, with the join's join_ref echoed
      for (const r of replies().slice(0, 3)) {
        const v = asV2(r)!;
        assert.equal(v[0], v[1], `rejected-join reply echoes join_ref: ${r.text}`);
        assert.deepEqual(v[4], { status: "error", response: { reason: "rejected" } });
      }
      const refs = [j1!.v[1], j2!.v[1], j3!.v[1]];
      assert.equal(new Set(refs).size, 3, `each rejoin uses a new ref: ${refs}`);
      for (const j of [j1!, j2!, j3!]) assert.equal(j.v[0], j.v[1], "join_ref = ref on each rejoin");
      const gap1 = j2!.e.at - r1!.at, gap2 = j3!.e.at - r2!.at;
      tc.diagnostic(`rejoin gaps after each error reply: ${gap1} ms, ${gap2} ms`);
      assert.ok(gap1 >= 900 && gap1 <= 1600, `first rejoin ~1 s after the error, was ${gap1} ms`);
      assert.ok(gap2 >= 1900 && gap2 <= 2700, `second rejoin ~2 s after the error, was ${gap2} ms`);
      ch.leave();
    });

    test(`joining an unrouted topic → receive("error") {reason:"unmatched topic"}, reply join_ref null [${via}] [${client.name}] (item 13)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = `nope:${Date.now()}`;
      const ch = phx.socket.channel(t);
      const o = await outcome(ch.join(), 3000, undefined, () => phx.log.dump());
      assert.deepEqual(o, { status: "error", response: { reason: "unmatched topic" } });
      const sent = asV2(phx.log.find({ dir: "out", topic: t, event: "phx_join" })!)!;
      const reply = phx.log.find({ dir: "in", topic: t, event: "phx_reply", ref: sent[1] });
      assert.deepEqual(reply?.json, [null, sent[1], t, "phx_reply", { status: "error", response: { reason: "unmatched topic" } }]);
      ch.leave();
    });

    test(`a join callback that throws → receive("error") {reason:"join crashed"}, join_ref echoed [${via}] [${client.name}] (item 14)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("join-crash");
      const ch = phx.socket.channel(t, { crash: true });
      const o = await outcome(ch.join(), 3000, undefined, () => phx.log.dump());
      assert.deepEqual(o, { status: "error", response: { reason: "join crashed" } });
      const sent = asV2(phx.log.find({ dir: "out", topic: t, event: "phx_join" })!)!;
      const reply = phx.log.find({ dir: "in", topic: t, event: "phx_reply", ref: sent[1] });
      assert.deepEqual(reply?.json, [sent[0], sent[1], t, "phx_reply", { status: "error", response: { reason: "join crashed" } }]);
      ch.leave();
      // the connection survives a crashing join
      const ok = phx.socket.channel(topic("after-join-crash"));
      await joinOk(phx, ok);
      assert.deepEqual(await outcome(ok.push("ping", { alive: 1 })), { status: "ok", response: { alive: 1 } });
    });

    test(`handleIn replies ok with a map → receive("ok", map) [${via}] [${client.name}] (item 17)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("ping"));
      await joinOk(phx, ch);
      const o = await outcome(ch.push("ping", { hello: "world", n: [1, { x: null }] }), 3000, undefined, () => phx.log.dump());
      assert.deepEqual(o, { status: "ok", response: { hello: "world", n: [1, { x: null }] } });
      // wire shape of the reply: [join_ref, ref, topic, "phx_reply", {status, response}]
      const sent = asV2(phx.log.find({ dir: "out", topic: ch.topic, event: "ping" })!)!;
      const reply = phx.log.find({ dir: "in", topic: ch.topic, ref: sent[1] });
      assert.deepEqual(reply?.json, [ch.joinRef(), sent[1], ch.topic, "phx_reply", { status: "ok", response: { hello: "world", n: [1, { x: null }] } }]);
    });

    test(`handleIn replies error with a map → receive("error"); a custom status "queued" → receive("queued") [${via}] [${client.name}] (item 18)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("statuses"));
      await joinOk(phx, ch);
      assert.deepEqual(await outcome(ch.push("error_reply", { why: "nope" })), { status: "error", response: { why: "nope" } });
      assert.deepEqual(await outcome(ch.push("custom_status", { pos: 3 })), { status: "queued", response: { pos: 3 } });
      const sent = asV2(phx.log.find({ dir: "out", topic: ch.topic, event: "custom_status" })!)!;
      const reply = phx.log.find({ dir: "in", topic: ch.topic, ref: sent[1] });
      assert.deepEqual(reply?.json, [ch.joinRef(), sent[1], ch.topic, "phx_reply", { status: "queued", response: { pos: 3 } }]);
    });

    test(`handleIn does not reply → receive("timeout") with a 300 ms push timeout, nothing else arrives [${via}] [${client.name}] (item 19)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("noreply"));
      await joinOk(phx, ch);
      const from = phx.log.nextSeq;
      const o = await outcome(ch.push("noreply", { q: 1 }, 300), 2000);
      assert.equal(o.status, "timeout");
      const sent = asV2(phx.log.find({ dir: "out", topic: ch.topic, event: "noreply" })!)!;
      await phx.log.expectNone((e) => e.dir === "in" && e.seq >= from, "incoming frame after a noreply push", 500, from);
      assert.equal(phx.log.find({ dir: "in", ref: sent[1] }), undefined);
      assert.equal(ch.state, "joined");
    });

    test(`a channel push → channel.on(event) gets the payload; on the wire join_ref set, ref null [${via}] [${client.name}] (item 20)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("push"));
      await joinOk(phx, ch);
      const got = nextEvent(phx, ch, "pushed");
      ch.push("push", { k: "v", n: 7 });
      assert.deepEqual(await got, { k: "v", n: 7 });
      const wire = phx.log.find({ dir: "in", topic: ch.topic, event: "pushed" });
      assert.deepEqual(wire?.json, [ch.joinRef(), null, ch.topic, "pushed", { k: "v", n: 7 }]);
    });

    test(`channel params given as a function are re-evaluated on rejoin after a crash (seen in the join reply) [${via}] [${client.name}] (item 21)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("last-seen");
      let lastSeen = 1;
      const ch = phx.socket.channel(t, () => ({ last_seen_id: lastSeen }));
      assert.deepEqual(await joinOk(phx, ch), { topic: t, params: { last_seen_id: 1 } });
      const firstJoinRef = ch.joinRef();
      lastSeen = 2;
      const from = phx.log.nextSeq;
      ch.push("crash", {});
      const rejoin = await phx.log.wait({ dir: "out", topic: t, event: "phx_join" }, "rejoin after crash", 3000, from);
      const rj = asV2(rejoin)!;
      assert.deepEqual(rj[4], { last_seen_id: 2 }, "rejoin payload carries the re-evaluated params");
      assert.notEqual(rj[0], firstJoinRef);
      const reply = await phx.log.wait({ dir: "in", topic: t, event: "phx_reply", ref: rj[1] }, "rejoin reply", 3000, from);
      assert.deepEqual(reply.json, [rj[0], rj[1], t, "phx_reply", { status: "ok", response: { topic: t, params: { last_seen_id: 2 } } }]);
      await waitUntil(() => ch.state === "joined", 1000, "channel joined again");
    });

    test(`channel.leave() → receive("ok"), onClose, on the wire phx_reply before phx_close with the same join_ref [${via}] [${client.name}] (item 29)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("leave");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const jr = ch.joinRef();
      let closed = 0;
      ch.onClose(() => { closed += 1; });
      const o = await outcome(ch.leave(), 3000, ["ok", "timeout"], () => phx.log.dump());
      assert.equal(o.status, "ok");
      assert.equal(closed, 1, "onClose fired");
      assert.equal(ch.state, "closed");
      const leave = asV2(phx.log.find({ dir: "out", topic: t, event: "phx_leave" })!)!;
      assert.equal(leave[0], jr);
      const reply = await phx.log.wait({ dir: "in", topic: t, event: "phx_reply", ref: leave[1] }, "leave reply");
      const close = await phx.log.wait({ dir: "in", topic: t, event: "phx_close" }, "phx_close after leave");
      assert.deepEqual(reply.json, [jr, leave[1], t, "phx_reply", { status: "ok", response: {} }]);
      assert.deepEqual(close.json, [jr, jr, t, "phx_close", {}]);
      assert.ok(reply.seq < close.seq, "phx_reply precedes phx_close");
    });

    test(`handleIn stops the channel → phx_close (ref = join_ref), onClose, state closed, no rejoin [${via}] [${client.name}] (item 31)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("stop");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const jr = ch.joinRef();
      let closed = 0, errored = 0;
      ch.onClose(() => { closed += 1; });
      ch.onError(() => { errored += 1; });
      const from = phx.log.nextSeq;
      ch.push("stop", {});
      const close = await phx.log.wait({ dir: "in", topic: t, event: "phx_close" }, "phx_close", 3000, from);
      assert.deepEqual(close.json, [jr, jr, t, "phx_close", {}]);
      await waitUntil(() => closed === 1, 1000, "onClose");
      assert.equal(ch.state, "closed");
      assert.equal(errored, 0, "onError not fired");
      assert.ok(!phx.socket.channels.includes(ch), "channel removed from the socket");
      await phx.log.expectNone({ dir: "out", topic: t, event: "phx_join" }, "rejoin after phx_close", 1500, from);
      assert.equal(phx.log.find({ dir: "in", topic: t, event: "phx_error" }, from), undefined);
    });

    test(`handleIn throws → phx_error {reason:"channel_crash"} (ref = join_ref), onError, rejoin ~1 s later with a new join_ref [${via}] [${client.name}] (item 32)`, { timeout: 10_000 }, async (tc) => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("crash");
      const ch = phx.socket.channel(t);
      await joinOk(phx, ch);
      const jr = ch.joinRef();
      let errors = 0;
      ch.onError(() => { errors += 1; });
      const from = phx.log.nextSeq;
      ch.push("crash", {});
      const err = await phx.log.wait({ dir: "in", topic: t, event: "phx_error" }, "phx_error", 3000, from);
      assert.deepEqual(err.json, [jr, jr, t, "phx_error", { reason: "channel_crash" }]);
      await waitUntil(() => errors === 1, 1000, "onError");
      const rejoin = await phx.log.wait({ dir: "out", topic: t, event: "phx_join" }, "rejoin", 3000, from);
      const rj = asV2(rejoin)!;
      const gap = rejoin.at - err.at;
      tc.diagnostic(`rejoin ${gap} ms after phx_error`);
      assert.ok(gap >= 900 && gap <= 1600, `rejoin ~1 s after phx_error, was ${gap} ms`);
      assert.notEqual(rj[0], jr, "new join_ref");
      assert.equal(rj[0], rj[1]);
      const reply = await phx.log.wait({ dir: "in", topic: t, event: "phx_reply", ref: rj[1] }, "rejoin reply", 3000, from);
      assert.deepEqual(reply.json, [rj[0], rj[1], t, "phx_reply", { status: "ok", response: { topic: t, params: {} } }]);
      await waitUntil(() => ch.state === "joined", 1000, "joined again");
      // the rejoined channel works
      assert.deepEqual(await outcome(ch.push("ping", { after: "crash" })), { status: "ok", response: { after: "crash" } });
      assert.equal(phx.log.find({ dir: "in", topic: t, event: "phx_close" }, from), undefined, "no phx_close for a crash");
    });

    test(`two Channel objects for one topic: the second join leaves the first; client and server stay consistent [${via}] [${client.name}] (item 34)`, { timeout: 10_000 }, async () => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const t = topic("two-objects");
      const c1 = phx.socket.channel(t, { which: 1 });
      await joinOk(phx, c1);
      const jr1 = c1.joinRef();
      let c1Closed = 0;
      c1.onClose(() => { c1Closed += 1; });
      let c1Got = 0;
      c1.on("broadcasted", () => { c1Got += 1; });
      const c2 = phx.socket.channel(t, { which: 2 });
      const from = phx.log.nextSeq;
      assert.deepEqual(await joinOk(phx, c2), { topic: t, params: { which: 2 } });
      const leave = phx.log.find({ dir: "out", topic: t, event: "phx_leave" }, from);
      assert.ok(leave, `the client left the first channel\n${phx.log.dump()}`);
      assert.equal(asV2(leave)![0], jr1);
      await waitUntil(() => c1Closed === 1 && c1.state === "closed", 2000, "first channel closed", () => phx.log.dump());
      assert.equal(c2.state, "joined");
      // the server has exactly one channel for the topic: one broadcast frame, delivered to c2 only
      let c2Got = 0;
      c2.on("broadcasted", () => { c2Got += 1; });
      const bFrom = phx.log.nextSeq;
      assert.deepEqual(await outcome(c2.push("ping", { ok: 1 })), { status: "ok", response: { ok: 1 } });
      c2.push("broadcast", { x: 1 });
      await waitUntil(() => c2Got >= 1, 2000, "c2 gets the broadcast", () => phx.log.dump());
      await delay(300);
      assert.equal(phx.log.all({ dir: "in", topic: t, event: "broadcasted" }, bFrom).length, 1, `one broadcast frame\n${phx.log.dump()}`);
      assert.equal(c2Got, 1);
      assert.equal(c1Got, 0);
      assert.equal(c2.state, "joined", "a stale phx_close for the first join does not close the second");
    });

    test(`sendAfter: \`after\` {ms} → push \`later\` arrives after ~ms (a handleInfo push carries join_ref) [${via}] [${client.name}]`, { timeout: 10_000 }, async (tc) => {
      const phx = phxSocket(server, { client, via });
      await connected(phx);
      const ch = phx.socket.channel(topic("after"));
      await joinOk(phx, ch);
      const started = Date.now();
      const got = nextEvent(phx, ch, "later", 3000);
      ch.push("after", { ms: 300 });
      await got;
      const elapsed = Date.now() - started;
      tc.diagnostic(`later after ${elapsed} ms`);
      assert.ok(elapsed >= 280 && elapsed < 1500, `later arrived after ${elapsed} ms (expected ~300)`);
      const wire = asV2(phx.log.find({ dir: "in", topic: ch.topic, event: "later" })!)!;
      assert.equal(wire[0], ch.joinRef());
      assert.equal(wire[1], null);
    });
  }
}
