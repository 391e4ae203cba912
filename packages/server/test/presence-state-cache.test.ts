/**
 * `presence_state` once per change: `Presence.encodedList` reuses one encoding until the topic
 * changes, re-decorates only the keys a change touched, and the frames it goes out in decode to
 * exactly what an uncached push would have sent, in both wire formats.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { V1, V2 } from "@cinder/protocol";
import { createPresence, EncodedJson, PubSub, silentLogger, V1Serializer, V2Serializer, type PresenceMap } from "../src/index.js";

function decoded(payload: EncodedJson): unknown {
  return JSON.parse(payload.bytes.toString("utf8"));
}

test("the encoded list is the same bytes until the topic changes, then matches list() again", async () => {
  const presence = createPresence({ pubsub: new PubSub(), logger: silentLogger, diffWindowMs: 0 });
  const a = { ownerId: "a", topic: "room:1" };
  const b = { ownerId: "b", topic: "room:1" };
  presence.track(a, "ann", { tab: 1 });
  presence.track(b, "bob", { tab: 1 });
  const first = await presence.encodedList("room:1");
  assert.equal(await presence.encodedList("room:1"), first, "no change: the same encoding");
  assert.deepEqual(decoded(first), JSON.parse(JSON.stringify(await presence.list("room:1"))));

  presence.track(b, "ann", { tab: 2 });
  presence.update(a, "ann", { tab: 3 });
  const second = await presence.encodedList("room:1");
  assert.notEqual(second, first);
  assert.deepEqual(decoded(second), JSON.parse(JSON.stringify(await presence.list("room:1"))));

  presence.untrack(b, "bob");
  presence.track({ ownerId: "c", topic: "room:2" }, "cat", {});
  const third = await presence.encodedList("room:1");
  assert.deepEqual(decoded(third), JSON.parse(JSON.stringify(await presence.list("room:1"))));
  assert.equal(await presence.encodedList("room:1"), third, "a change on another topic keeps this one's encoding");

  presence.untrackAll("a");
  presence.untrackAll("b");
  assert.deepEqual(decoded(await presence.encodedList("room:1")), {});
  await presence.close();
});

test("a join storm appends to the shared list: payloads handed out stay intact, frames point at it, a leave re-splices", async () => {
  const presence = createPresence({ pubsub: new PubSub(), logger: silentLogger, diffWindowMs: 0 });
  const handedOut: Array<{ payload: EncodedJson; text: string }> = [];
  for (let i = 0; i < 400; i++) {
    presence.track({ ownerId: `o${i}`, topic: "storm" }, `user-${i}`, { pad: "p".repeat(i % 50) });
    const payload = await presence.encodedList("storm");
    handedOut.push({ payload, text: Buffer.concat(payload.parts as Buffer[]).toString("utf8") });
  }
  const expected = JSON.parse(JSON.stringify(await presence.list("storm"))) as object;
  assert.deepEqual(decoded(handedOut.at(-1)!.payload), expected);
  for (const [i, { payload, text }] of handedOut.entries()) {
    assert.equal(Buffer.concat(payload.parts as Buffer[]).toString("utf8"), text, `payload ${i} unchanged by later appends`);
    assert.equal(Object.keys(JSON.parse(text) as object).length, i + 1);
  }
  const last = handedOut.at(-1)!.payload;
  const frame = V2Serializer.encode({ join_ref: "1", ref: null, topic: "storm", event: "presence_state", payload: last });
  assert.ok(frame.chunks.length > 1 && frame.chunks.includes(last.parts[0]!), "the frame shares the list's buffer instead of copying it");
  assert.deepEqual(V2.decode(frame.text).payload, expected);

  presence.untrack({ ownerId: "o7", topic: "storm" }, "user-7");
  presence.update({ ownerId: "o9", topic: "storm" }, "user-9", { pad: "changed" });
  presence.track({ ownerId: "late", topic: "storm" }, "late", {});
  const after = await presence.encodedList("storm");
  assert.deepEqual(decoded(after), JSON.parse(JSON.stringify(await presence.list("storm"))));
  assert.equal(Buffer.concat(last.parts as Buffer[]).toString("utf8"), handedOut.at(-1)!.text, "a re-splice leaves earlier payloads intact");
  await presence.close();
});

test("fetch decorates only the keys a change touched; refreshList re-decorates all", async () => {
  const fetched: string[][] = [];
  let suffix = "v1";
  const presence = createPresence({
    pubsub: new PubSub(), logger: silentLogger, diffWindowMs: 0,
    async fetch(_topic, presences: PresenceMap) {
      await Promise.resolve();
      fetched.push(Object.keys(presences).sort());
      for (const key of Object.keys(presences)) presences[key] = { ...presences[key]!, name: `${key}-${suffix}` };
      return presences;
    },
  });
  const t = (owner: string) => ({ ownerId: owner, topic: "deco:1" });
  for (const key of ["k1", "k2", "k3"]) presence.track(t(key), key, {});
  await presence.flush();
  fetched.length = 0;

  const all = await presence.encodedList("deco:1");
  assert.deepEqual(fetched, [["k1", "k2", "k3"]]);
  assert.deepEqual(decoded(all), JSON.parse(JSON.stringify(await presence.list("deco:1"))));
  fetched.length = 0;

  presence.track(t("k4"), "k4", {});
  presence.untrack(t("k1"), "k1");
  const next = await presence.encodedList("deco:1");
  assert.deepEqual(fetched, [["k4"]], "only the joined key is decorated (the left one needs no fetch)");
  const list = await presence.list("deco:1");
  assert.deepEqual(Object.keys(decoded(next) as object).sort(), ["k2", "k3", "k4"]);
  assert.deepEqual(decoded(next), JSON.parse(JSON.stringify(list)));

  suffix = "v2";
  assert.equal((decoded(await presence.encodedList("deco:1")) as Record<string, { name: string }>)["k2"]!.name, "k2-v1", "cached until a change");
  presence.refreshList("deco:1");
  assert.equal((decoded(await presence.encodedList("deco:1")) as Record<string, { name: string }>)["k2"]!.name, "k2-v2");
  await presence.close();
});

test("a change while fetch runs is not lost: the next list has it", async () => {
  let release: () => void = () => {};
  let hold = false;
  const presence = createPresence({
    pubsub: new PubSub(), logger: silentLogger, diffWindowMs: 0,
    async fetch(_topic, presences: PresenceMap) {
      if (hold) await new Promise<void>((resolve) => { release = resolve; });
      return presences;
    },
  });
  presence.track({ ownerId: "a", topic: "r" }, "a", {});
  hold = true;
  const pending = presence.encodedList("r");
  await Promise.resolve();
  presence.track({ ownerId: "b", topic: "r" }, "b", {});
  hold = false;
  release();
  await pending;
  assert.deepEqual(Object.keys(decoded(await presence.encodedList("r")) as object).sort(), ["a", "b"]);
  await presence.close();
});

test("a push with an encoded payload decodes like the same push encoded from the value (V1 and V2)", () => {
  const value = { "u\"1": { metas: [{ phx_ref: "r1", name: "é ✓" }] }, __proto__x: { metas: [] } };
  const payload = new EncodedJson(Buffer.from(JSON.stringify(value)));
  const message = { join_ref: "3", ref: null, topic: "room:\"x", event: "presence_state" };
  for (const [serializer, codec] of [[V1Serializer, V1], [V2Serializer, V2]] as const) {
    const spliced = serializer.encode({ ...message, payload });
    const plain = serializer.encode({ ...message, payload: value });
    assert.deepEqual(codec.decode(spliced.text), codec.decode(plain.text), serializer.vsn);
    assert.deepEqual(spliced.wire, plain.wire, `${serializer.vsn}: the same bytes on the wire`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify({ payload })), { payload: value }, "a path that encodes values embeds the decoded value");
});

test("a costly diff fan-out stretches the diff window (up to maxDiffWindowMs); every change still arrives", async () => {
  /** Tracks one key every 5 ms for 600 ms under a subscriber that takes 15 ms per diff; returns the diffs and keys seen. */
  async function storm(maxDiffWindowMs: number): Promise<{ diffs: number; keys: number }> {
    const pubsub = new PubSub();
    const presence = createPresence({ pubsub, logger: silentLogger, diffWindowMs: 10, maxDiffWindowMs });
    const seen = new Set<string>();
    let diffs = 0;
    pubsub.subscribe("big", {
      deliver(message) {
        diffs++;
        for (const key of Object.keys((message.payload as { joins: object }).joins)) seen.add(key);
        const until = performance.now() + 15; // a fan-out to thousands of sockets
        while (performance.now() < until);
      },
    });
    for (let i = 0; i < 120; i++) {
      presence.track({ ownerId: `o${i}`, topic: "big" }, `k${i}`, {});
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await presence.close();
    return { diffs, keys: seen.size };
  }
  const fixed = await storm(10);
  const stretched = await storm(1000);
  assert.equal(fixed.keys, 120);
  assert.equal(stretched.keys, 120, "every join still arrives");
  assert.ok(stretched.diffs * 3 <= fixed.diffs, `stretched: ${stretched.diffs} diffs, fixed window: ${fixed.diffs}`);
});
