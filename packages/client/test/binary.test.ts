/** V2 serializer (text and binary frames) and binary payloads both ways against the server. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Serializer, decodeBinary, decodeText, encodeBinaryPush, type Message } from "../src/index.js";
import { clientSocket, nextEvent, recordingTransport, topic, useCleanup, type Frame } from "./support/client.js";
import { startServer, waitUntil, type TestServer } from "./support/server.js";

let server: TestServer;
before(async () => { server = await startServer(); });
after(async () => { await server.close(); });
useCleanup();

const bytes = (...values: number[]): ArrayBuffer => new Uint8Array(values).buffer;
/** An exact ArrayBuffer copy of a Buffer (small Buffers share a pool). */
const ab = (buf: Buffer): ArrayBuffer => new Uint8Array(buf).buffer;
const hex = (buffer: unknown): string => Buffer.from(new Uint8Array(buffer as ArrayBuffer)).toString("hex");

function encode(message: Message): string | ArrayBuffer {
  let out: string | ArrayBuffer = "";
  Serializer.encode(message, (encoded) => { out = encoded; });
  return out;
}

test("text frames: [join_ref, ref, topic, event, payload], undefined refs as null", () => {
  assert.equal(encode({ join_ref: "1", ref: "2", topic: "room:1", event: "new_msg", payload: { a: 1 } }),
    '["1","2","room:1","new_msg",{"a":1}]');
  assert.equal(encode({ join_ref: null, ref: "3", topic: "phoenix", event: "heartbeat", payload: {} }),
    '[null,"3","phoenix","heartbeat",{}]');
  assert.deepEqual(decodeText('[null,null,"room:1","ev",{"x":true}]'),
    { join_ref: null, ref: null, topic: "room:1", event: "ev", payload: { x: true } });
  assert.throws(() => decodeText('{"topic":"x"}'), /5-element array/);
});

test("binary push (kind 0): header lengths, fields, raw payload; ≤ 255 bytes per field", () => {
  const frame = encodeBinaryPush({ join_ref: "12", ref: "3", topic: "room:é", event: "up", payload: bytes(9, 8, 7) });
  const expected = Buffer.concat([
    Buffer.from([0, 2, 1, 7, 2]), Buffer.from("12"), Buffer.from("3"), Buffer.from("room:é"), Buffer.from("up"), Buffer.from([9, 8, 7]),
  ]);
  assert.equal(hex(frame), expected.toString("hex"));
  assert.ok(encode({ join_ref: "1", ref: "2", topic: "t", event: "e", payload: new Uint8Array([1, 2]) }) instanceof ArrayBuffer,
    "typed arrays are sent as binary too");
  assert.throws(() => encodeBinaryPush({ join_ref: "1", ref: "2", topic: "x".repeat(256), event: "e", payload: bytes(1) }), RangeError);
});

test("binary decode: kind 0 push, kind 1 reply ({status, response: ArrayBuffer}), kind 2 broadcast", () => {
  const push = decodeBinary(new Uint8Array([0, 1, 2, 1, 0x37, 0x72, 0x31, 0x65, 5, 6]).buffer);
  assert.deepEqual({ ...push, payload: hex(push.payload) }, { join_ref: "7", ref: null, topic: "r1", event: "e", payload: "0506" });
  const reply = decodeBinary(ab(Buffer.concat([Buffer.from([1, 1, 1, 2, 2]), Buffer.from("47r1ok"), Buffer.from([0xff])])));
  const payload = reply.payload as { status: string; response: ArrayBuffer };
  assert.deepEqual([reply.join_ref, reply.ref, reply.topic, reply.event, payload.status, hex(payload.response)], ["4", "7", "r1", "phx_reply", "ok", "ff"]);
  const broadcast = decodeBinary(ab(Buffer.concat([Buffer.from([2, 2, 1]), Buffer.from("r1e"), Buffer.from([1])])));
  assert.deepEqual([broadcast.join_ref, broadcast.ref, broadcast.topic, broadcast.event, hex(broadcast.payload)], [null, null, "r1", "e", "01"]);
  assert.throws(() => decodeBinary(new Uint8Array([3, 0]).buffer), /unknown binary frame kind/);
  assert.throws(() => decodeBinary(new Uint8Array([0, 9, 1, 1]).buffer), /runs past/);
});

test("ArrayBuffer push → server gets the exact bytes; binary reply → ArrayBuffer", async () => {
  const frames: Frame[] = [];
  const socket = clientSocket(server.socketUrl, { transport: recordingTransport(frames) });
  const t = topic();
  const channel = socket.channel(t);
  await channel.joined();
  const payload = bytes(0, 1, 2, 253, 254, 255);
  const response = await channel.call("binary", payload);
  assert.ok(response instanceof ArrayBuffer);
  assert.equal(hex(response), "000102fdfeff");
  assert.equal(server.binaries.at(-1)?.toString("hex"), "000102fdfeff");
  const sent = frames.find((f) => f.dir === "out" && f.bin);
  assert.equal(sent?.bin?.[0], 0, "sent as a kind 0 frame");
  assert.deepEqual(await channel.call("binary_ack", new Uint8Array([5, 6, 7])), { size: 3, hex: "050607" });
});

test("binary push (kind 0) and broadcast (kind 2) from the server arrive as ArrayBuffer", async () => {
  const a = clientSocket(server.socketUrl);
  const b = clientSocket(server.socketUrl);
  const t = topic();
  const ca = a.channel(t);
  const cb = b.channel(t);
  await Promise.all([ca.joined(), cb.joined()]);
  const pushed = nextEvent(ca, "bin");
  await ca.call("binary_push", bytes(1, 2, 3));
  const got = await pushed;
  assert.ok(got instanceof ArrayBuffer);
  assert.equal(hex(got), "010203");
  const atA = nextEvent(ca, "bin");
  const atB = nextEvent(cb, "bin");
  ca.push("binary_broadcast", bytes(4, 5));
  assert.equal(hex(await atA), "0405");
  assert.equal(hex(await atB), "0405");
});

test("a binary push on a topic longer than 255 bytes is refused before sending", async () => {
  const socket = clientSocket(server.socketUrl);
  const channel = socket.channel(`room:${"x".repeat(260)}`);
  channel.join();
  assert.throws(() => channel.push("binary", bytes(1)), RangeError);
  assert.throws(() => channel.push("e".repeat(256), bytes(1)), RangeError);
  channel.push("ping", { text: "fine" }); // text pushes have no such limit
  channel.leave();
  await waitUntil(() => channel.state === "closed", 1000, "left");
});
