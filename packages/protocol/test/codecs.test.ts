/**
 * The codecs, as both ends of a connection use them: whatever one side encodes, the other side
 * decodes to the same message (V1 and V2 text, V2 binary kinds 0, 1 and 2), over random messages;
 * fields that cannot go in a binary frame are refused; malformed frames are refused with a
 * `DecodeError`, never another exception.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CHANNEL_EVENTS, DecodeError, EncodeError, V1, V2, V2Client, decodeV2Text, utf8Encode, type Message,
} from "../src/index.js";

const RUNS = { numRuns: 500 };
/** A header string that fits a binary frame (≤ 255 UTF-8 bytes). */
const field = fc.string({ unit: "binary", maxLength: 60 }).filter((s) => utf8Encode(s).length <= 255);
const nonEmpty = field.filter((s) => s.length > 0);
const ref = fc.option(nonEmpty, { nil: null });
const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown); // -0 → 0, as JSON carries it
const bytes = fc.uint8Array({ maxLength: 300 });

test("V2 text: a server push, reply or broadcast decodes on the client as sent", () => {
  fc.assert(fc.property(ref, ref, nonEmpty, nonEmpty, json, (join_ref, r, topic, event, payload) => {
    assert.deepEqual(V2Client.decode(V2.encode({ join_ref, ref: r, topic, event, payload })), { join_ref, ref: r, topic, event, payload });
    assert.deepEqual(V2Client.decode(V2.encodeReply({ join_ref, ref: r, topic, status: event, response: payload })),
      { join_ref, ref: r, topic, event: CHANNEL_EVENTS.reply, payload: { status: event, response: payload } });
    assert.deepEqual(V2Client.decode(V2.fastlane({ topic, event, payload })), { join_ref: null, ref: null, topic, event, payload });
  }), RUNS);
});

test("V2 text: a client message decodes on the server as sent", () => {
  fc.assert(fc.property(ref, ref, nonEmpty, nonEmpty, json, (join_ref, r, topic, event, payload) => {
    const message: Message = { join_ref, ref: r, topic, event, payload };
    assert.deepEqual(V2.decode(V2Client.encode(message)), message);
  }), RUNS);
});

test("V2 binary: client kind 0 → server; server kinds 0, 1, 2 → client, payload bytes intact", () => {
  fc.assert(fc.property(ref, ref, nonEmpty, nonEmpty, bytes, (join_ref, r, topic, event, payload) => {
    const pushed = V2Client.encode({ join_ref, ref: r, topic, event, payload });
    assert.ok(pushed instanceof Uint8Array && pushed[0] === 0);
    assert.deepEqual(V2.decode(pushed), { join_ref, ref: r, topic, event, payload });

    const push = V2.encode({ join_ref: join_ref ?? "1", ref: null, topic, event, payload });
    assert.ok(push instanceof Uint8Array && push[0] === 0);
    assert.deepEqual(V2Client.decode(push), { join_ref: join_ref ?? "1", ref: null, topic, event, payload });

    const reply = V2.encodeReply({ join_ref, ref: r, topic, status: event, response: payload });
    assert.ok(reply instanceof Uint8Array && reply[0] === 1);
    assert.deepEqual(V2Client.decode(reply), { join_ref, ref: r, topic, event: CHANNEL_EVENTS.reply, payload: { status: event, response: payload } });

    const broadcast = V2.fastlane({ topic, event, payload });
    assert.ok(broadcast instanceof Uint8Array && broadcast[0] === 2);
    assert.deepEqual(V2Client.decode(broadcast), { join_ref: null, ref: null, topic, event, payload });
    assert.deepEqual(V2.encode({ join_ref: null, ref: null, topic, event, payload }), broadcast, "a ref-less binary message is a broadcast");
  }), RUNS);
});

test("V1: a server push, reply or broadcast reads back as phoenix.js V1 reads it; client frames decode", () => {
  fc.assert(fc.property(ref, ref, nonEmpty, nonEmpty, json, (join_ref, r, topic, event, payload) => {
    assert.deepEqual(JSON.parse(V1.encode({ join_ref, ref: r, topic, event, payload }) as string), { topic, event, payload, ref: r });
    assert.deepEqual(JSON.parse(V1.encodeReply({ join_ref, ref: r, topic, status: "ok", response: payload }) as string),
      { topic, event: "phx_reply", payload: { status: "ok", response: payload }, ref: r });
    assert.deepEqual(JSON.parse(V1.fastlane({ topic, event, payload }) as string), { topic, event, payload, ref: null });
    assert.deepEqual(V1.decode(JSON.stringify({ topic, event, payload, ref: r, join_ref })), { join_ref, ref: r, topic, event, payload });
  }), RUNS);
});

test("a header field over 255 UTF-8 bytes is refused with an EncodeError (a RangeError) on both sides", () => {
  const long = "é".repeat(128); // 256 bytes
  const payload = new Uint8Array([1]);
  for (const encode of [
    () => V2Client.encode({ join_ref: "1", ref: "2", topic: long, event: "e", payload }),
    () => V2.encode({ join_ref: "1", ref: null, topic: "t", event: long, payload }),
    () => V2.encodeReply({ join_ref: "1", ref: long, topic: "t", status: "ok", response: payload }),
    () => V2.fastlane({ topic: long, event: "e", payload }),
  ]) {
    assert.throws(encode, (error: unknown) => error instanceof EncodeError && error instanceof RangeError && /longer than 255 bytes/.test(error.message));
  }
  assert.throws(() => V1.fastlane({ topic: "t", event: "e", payload }), EncodeError, "V1 has no binary frames");
});

test("any bytes or text a peer sends either decode or are refused with a DecodeError", () => {
  const refusedOrDecoded = (decode: () => Message): void => {
    try {
      const message = decode();
      assert.equal(typeof message.topic, "string");
      assert.equal(typeof message.event, "string");
    } catch (error) {
      assert.ok(error instanceof DecodeError, String(error));
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ maxLength: 40 }), (data, text) => {
    refusedOrDecoded(() => V2.decode(data));
    refusedOrDecoded(() => V2Client.decode(data));
    refusedOrDecoded(() => V2.decode(text));
    refusedOrDecoded(() => V1.decode(text));
    refusedOrDecoded(() => V1.decode(data));
  }), { numRuns: 2000 });
  assert.throws(() => decodeV2Text('{"topic":"x"}'), /5-element array/);
  assert.throws(() => V2.decode(new Uint8Array([1, 0, 0, 0, 0])), /unsupported binary frame kind 1/, "clients send only pushes");
  assert.throws(() => V2.decode(new Uint8Array([0, 0, 0, 0, 1, 0x65])), /lacks topic or event/);
  assert.throws(() => V2Client.decode(new Uint8Array([0, 9, 1, 1])), /runs past/);
  assert.throws(() => V2Client.decode(new Uint8Array([3, 0])), /unknown binary frame kind 3/);
});
