// docs/protocol.md §10 items 37, 38 driven by a client (phoenix.js or @cinder/client, see harness/clients.ts `clients`):
// binary pushes, replies, pushes and broadcasts over the WebSocket (binary frames are not sent to
// long-poll clients). Run by wire.phoenix.test.ts and wire.cinder.test.ts; the raw-frame checks
// (exact V2 shapes, raw kind 0/1/2 frames, 39) are in wire.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BYTES, bin,
  RawWebSocket, arrayBuffer, connected, joinOk, nextEvent, outcome, phxSocket, server, topic, type BinaryMessage, type Client,
  type WireEntry,
} from "./harness/index.js";


export function wireScenarios(client: Client): void {
  test(`a push with an ArrayBuffer → kind 0 frame with join_ref/ref/topic/event; the server gets the exact bytes [${client.name}] (item 37)`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { client });
    await connected(phx);
    const t = topic("bin-in");
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const push = ch.push("binary", arrayBuffer(BYTES));
    const o = await outcome(push, 3000, undefined, () => phx.log.dump());
    // what the client sent
    const sent = phx.log.find((e) => e.dir === "out" && e.bin !== undefined);
    assert.ok(sent?.bin, `binary frame sent\n${phx.log.dump()}`);
    const b = sent.bin;
    const jr = ch.joinRef()!, ref = push.ref!;
    assert.equal(b[0], 0, "kind 0");
    assert.deepEqual([b[1], b[2], b[3], b[4]], [jr.length, ref.length, t.length, "binary".length]);
    assert.equal(b.subarray(5).toString("latin1").startsWith(jr + ref + t + "binary"), true);
    assert.deepEqual([...b.subarray(5 + jr.length + ref.length + t.length + 6)], BYTES);
    // the server received exactly those bytes: it echoes them back as a binary ok reply
    assert.equal(o.status, "ok");
    assert.ok(o.response instanceof ArrayBuffer, `reply payload is an ArrayBuffer, got ${Object.prototype.toString.call(o.response)}`);
    assert.deepEqual([...new Uint8Array(o.response)], BYTES);
  });

  test(`a binary reply → receive("ok") gets an ArrayBuffer (kind 1 on the wire) [${client.name}] (item 38)`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { client });
    await connected(phx);
    const t = topic("bin-reply");
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const push = ch.push("binary", arrayBuffer([9, 8, 7]));
    const o = await outcome(push, 3000, undefined, () => phx.log.dump());
    assert.equal(o.status, "ok");
    assert.ok(o.response instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(o.response)], [9, 8, 7]);
    const m = bin(phx.log.find((e) => e.dir === "in" && e.bin !== undefined));
    assert.deepEqual(m.kind === 1 && { joinRef: m.joinRef, ref: m.ref, topic: m.topic, status: m.status },
      { joinRef: ch.joinRef(), ref: push.ref, topic: t, status: "ok" });
  });

  test(`a binary push → on(event) gets an ArrayBuffer; kind 0 frame without ref [${client.name}] (item 38)`, { timeout: 10_000 }, async () => {
    const phx = phxSocket(server, { client });
    await connected(phx);
    const t = topic("bin-push");
    const ch = phx.socket.channel(t);
    await joinOk(phx, ch);
    const got = nextEvent(phx, ch, "pushed");
    ch.push("push", arrayBuffer(BYTES));
    const payload = await got;
    assert.ok(payload instanceof ArrayBuffer, "payload is an ArrayBuffer");
    assert.deepEqual([...new Uint8Array(payload)], BYTES);
    const e = phx.log.find((x) => x.dir === "in" && x.bin !== undefined && typeof x.binMsg === "object" && x.binMsg.kind === 0);
    const m = bin(e);
    assert.deepEqual(m.kind === 0 && { joinRef: m.joinRef, topic: m.topic, event: m.event }, { joinRef: ch.joinRef(), topic: t, event: "pushed" });
    // exact layout: [0][len jr][len topic][len event] jr topic event payload — no ref field
    const b = e!.bin!;
    const jr = ch.joinRef()!;
    assert.equal(b.length, 4 + jr.length + t.length + "pushed".length + BYTES.length);
    assert.deepEqual([b[0], b[1], b[2], b[3]], [0, jr.length, t.length, 6]);
  });

  test(`a binary broadcast → every subscriber's on(event) gets an ArrayBuffer; kind 2 frame [${client.name}] (item 38)`, { timeout: 10_000 }, async () => {
    const t = topic("bin-bcast");
    const a = phxSocket(server, { client }), b = phxSocket(server, { client });
    await connected(a); await connected(b);
    const chA = a.socket.channel(t), chB = b.socket.channel(t);
    await joinOk(a, chA); await joinOk(b, chB);
    const raw = await RawWebSocket.connect(server);
    await raw.joinOk(t, {}, "3");
    const gotA = nextEvent(a, chA, "broadcasted"), gotB = nextEvent(b, chB, "broadcasted");
    chA.push("broadcast", arrayBuffer(BYTES));
    for (const p of [await gotA, await gotB]) {
      assert.ok(p instanceof ArrayBuffer, "payload is an ArrayBuffer");
      assert.deepEqual([...new Uint8Array(p)], BYTES);
    }
    const re = await raw.log.wait((x) => x.dir === "in" && x.bin !== undefined, "binary broadcast on the raw client");
    assert.deepEqual(re.bin, Buffer.concat([Buffer.from([2, t.length, "broadcasted".length]), Buffer.from(`${t}broadcasted`), Buffer.from(BYTES)]));
    const m = bin(b.log.find((x) => x.dir === "in" && x.bin !== undefined));
    assert.equal(m.kind, 2);
  });
}
