/** The serializers: exact V1 / V2 / binary wire shapes, negotiation, and refusal of bad frames. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError, EncodeError, Frame, V1Serializer, V2Serializer, negotiateSerializer } from "../src/index.js";

const text = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

test("negotiation: missing → V1, 1.x → V1, 2.x → V2, others refused", () => {
  assert.equal(negotiateSerializer(undefined), V1Serializer);
  assert.equal(negotiateSerializer("1.0.0"), V1Serializer);
  assert.equal(negotiateSerializer("2.0.0"), V2Serializer);
  assert.equal(negotiateSerializer("2.1.3"), V2Serializer);
  for (const vsn of ["3.0.0", "abc", "2", "", "2.0"]) assert.equal(negotiateSerializer(vsn), null, vsn);
});

test("V2 text frames decode and encode as [join_ref, ref, topic, event, payload]", () => {
  assert.deepEqual(V2Serializer.decode(text(["1", "2", "room:1", "new", { a: 1 }]), false),
    { join_ref: "1", ref: "2", topic: "room:1", event: "new", payload: { a: 1 } });
  assert.deepEqual(V2Serializer.decode(text([null, 7, "phoenix", "heartbeat", {}, "extra"]), false),
    { join_ref: null, ref: "7", topic: "phoenix", event: "heartbeat", payload: {} });
  assert.equal(V2Serializer.encode({ join_ref: "1", ref: null, topic: "t", event: "e", payload: { x: 1 } }).text,
    '["1",null,"t","e",{"x":1}]');
  assert.equal(V2Serializer.encodeReply({ join_ref: "1", ref: "3", topic: "t", status: "queued", response: [1] }).text,
    '["1","3","t","phx_reply",{"status":"queued","response":[1]}]');
});

test("V2 binary: client kind 0 decodes; server kinds 0, 1 and 2 encode as docs/protocol.md §2.3", () => {
  const frame = Buffer.concat([Buffer.from([0, 1, 2, 3, 4]), Buffer.from("1"), Buffer.from("12"), Buffer.from("a:b"), Buffer.from("evnt"), Buffer.from([9, 8])]);
  const message = V2Serializer.decode(frame, true);
  assert.deepEqual({ ...message, payload: [...(message.payload as Uint8Array)] },
    { join_ref: "1", ref: "12", topic: "a:b", event: "evnt", payload: [9, 8] });
  const push = V2Serializer.encode({ join_ref: "1", ref: null, topic: "a:b", event: "ev", payload: new Uint8Array([7]) });
  assert.deepEqual([...push.bytes], [0, 1, 3, 2, ...Buffer.from("1a:bev"), 7]);
  assert.equal(push.binary, true);
  const reply = V2Serializer.encodeReply({ join_ref: "1", ref: "2", topic: "a:b", status: "ok", response: new Uint8Array([5]) });
  assert.deepEqual([...reply.bytes], [1, 1, 1, 3, 2, ...Buffer.from("12a:bok"), 5]);
  const broadcast = V2Serializer.encode({ join_ref: null, ref: null, topic: "a:b", event: "ev", payload: new Uint8Array([6]) });
  assert.deepEqual([...broadcast.bytes], [2, 3, 2, ...Buffer.from("a:bev"), 6]);
});

test("39: a binary frame field over 255 bytes is refused, not sent malformed", () => {
  assert.throws(() => V2Serializer.encode({ join_ref: null, ref: null, topic: "t".repeat(256), event: "e", payload: new Uint8Array(1) }), EncodeError);
});

test("V1 objects: all four keys required; output never carries join_ref", () => {
  assert.deepEqual(V1Serializer.decode(text({ topic: "t", event: "e", payload: {}, ref: null, join_ref: "1" }), false),
    { join_ref: "1", ref: null, topic: "t", event: "e", payload: {} });
  assert.throws(() => V1Serializer.decode(text({ topic: "t", event: "e", payload: {} }), false), DecodeError);
  assert.equal(V1Serializer.encodeReply({ join_ref: "1", ref: "2", topic: "t", status: "ok", response: {} }).text,
    '{"topic":"t","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"2"}');
  assert.throws(() => V1Serializer.encode({ join_ref: null, ref: null, topic: "t", event: "e", payload: new Uint8Array(1) }), EncodeError);
});

test("malformed frames throw DecodeError and nothing else", () => {
  const bad: Array<[Buffer, boolean]> = [
    [Buffer.from("not json"), false], [text([1, 2, 3]), false], [text({ a: 1 }), false], [text(["1", "2", 3, "e", {}]), false],
    [text(["1", "2", "t", null, {}]), false], [text([{}, "2", "t", "e", {}]), false], [Buffer.from([0, 9, 9, 9, 9, 1]), true],
    [Buffer.from([3, 0, 0, 1, 1, 65, 65]), true], [Buffer.from([0, 0, 0, 0, 0]), true], [Buffer.alloc(0), true], [Buffer.from([0xff, 0xfe]), false],
  ];
  for (const [data, binary] of bad) {
    assert.throws(() => V2Serializer.decode(data, binary), DecodeError, data.toString("hex"));
  }
  for (const data of [Buffer.from("[]"), Buffer.from("null"), Buffer.from("{\"topic\":1,\"event\":\"e\",\"payload\":{},\"ref\":null}")]) {
    assert.throws(() => V1Serializer.decode(data, false), DecodeError);
  }
  assert.throws(() => V1Serializer.decode(Buffer.from([1]), true), DecodeError);
});

test("__proto__ keys in payloads stay data and never touch prototypes", () => {
  const message = V2Serializer.decode(Buffer.from('["1","2","t","e",{"__proto__":{"polluted":true}}]'), false);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(message.payload), Object.prototype);
  assert.deepEqual(Object.keys(message.payload as object), ["__proto__"]);
});

test("a Frame is one complete unmasked WebSocket frame; bytes is its payload (RFC 6455 §5.2 lengths)", () => {
  for (const length of [0, 2, 124, 126, 65_534, 65_536, 70_000]) {
    const json = JSON.stringify("é".repeat(length / 2));
    for (const frame of [Frame.text(json), Frame.binary(new Uint8Array(length).fill(7))]) {
      const { wire, bytes } = frame;
      const size = bytes.length;
      assert.equal(wire[0], 0x80 | (frame.binary ? 2 : 1), "FIN and opcode");
      const header = size < 126 ? 2 : size < 65_536 ? 4 : 10;
      const declared = header === 2 ? wire[1] : header === 4 ? wire.readUInt16BE(2) : Number(wire.readBigUInt64BE(2));
      assert.equal(declared, size, `length ${size}`);
      assert.equal(wire[1]! & 0x80, 0, "unmasked");
      assert.equal(wire.length, header + size);
      assert.ok(wire.subarray(header).equals(bytes));
      if (!frame.binary) assert.equal(bytes.toString("utf8"), json);
    }
  }
});
