/**
 * A slow consumer, with a raw TCP client that speaks WebSocket by hand: it joins, stops reading
 * while the server broadcasts far more than `maxBufferedBytes`, and reads again once the server
 * has cut it off. What it reads is a run of complete frames (the broadcasts in order, none
 * missing up to the last) and then one close frame with 1013 — on the direct wire and on the
 * `ws.send` fallback alike. The socket is closed only after the client answers the close.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import { defineChannel, defineSocket, ok, type Logger } from "../src/index.js";
import { serverPool } from "./support/server.js";

const pool = serverPool({ socket: defineSocket({ channels: { "room:*": defineChannel({ join: () => ok() }) } }) });
after(() => pool.closeAll());

/** A client frame: masked, final (RFC 6455 §5.3). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff]);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}

/** One server frame as read off the stream. */
type ServerFrame = { opcode: number; payload: Buffer };

/** Splits complete server frames (unmasked) off the front of `buffer`; returns them and the rest. */
function readFrames(buffer: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const opcode = buffer[at]! & 0x0f;
    const short = buffer[at + 1]! & 0x7f;
    const header = short < 126 ? 2 : short === 126 ? 4 : 10;
    if (buffer.length - at < header) break;
    const length = short < 126 ? short : short === 126 ? buffer.readUInt16BE(at + 2) : Number(buffer.readBigUInt64BE(at + 2));
    if (buffer.length - at < header + length) break;
    frames.push({ opcode, payload: buffer.subarray(at + header, at + header + length) });
    at += header + length;
  }
  return { frames, rest: buffer.subarray(at) };
}

/** A WebSocket client on a bare TCP socket, whose reading can be stopped and resumed. */
class RawTcpClient {
  private buffer: Buffer = Buffer.alloc(0);
  readonly frames: ServerFrame[] = [];
  /** Whether the TCP connection has ended (the server closed or destroyed it). */
  ended = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      const { frames, rest } = readFrames(this.buffer);
      this.buffer = rest;
      this.frames.push(...frames);
      this.wake();
    });
    socket.on("close", () => { this.ended = true; this.wake(); });
    socket.on("error", () => {});
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Resolves once `condition` holds (checked on every read and at the end of the connection). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (this.ended) throw new Error(`connection ended first; ${this.frames.length} frames read`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Opens the connection: the HTTP upgrade by hand. */
  static async open(port: number, path: string): Promise<RawTcpClient> {
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let head = Buffer.alloc(0);
    while (!head.includes("\r\n\r\n")) head = Buffer.concat([head, await new Promise<Buffer>((resolve) => socket.once("data", resolve))]);
    const end = head.indexOf("\r\n\r\n") + 4;
    assert.match(head.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
    socket.pause();
    const client = new RawTcpClient(socket);
    socket.unshift(head.subarray(end));
    socket.resume();
    return client;
  }

  /** Sends a text message. */
  send(value: unknown): void {
    this.socket.write(clientFrame(0x1, Buffer.from(JSON.stringify(value))));
  }

  /** Answers a close frame with one of its own (the closing handshake). */
  sendClose(code: number): void {
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.write(clientFrame(0x8, payload));
  }
}

/** A logger that keeps the fields of the slow-consumer cut-offs it is told about. */
function cutOffLog(): Logger & { cutOffs: Array<Record<string, unknown>> } {
  const cutOffs: Array<Record<string, unknown>> = [];
  return {
    cutOffs, debug() {}, info() {}, error() {},
    warn(fields, message) { if (message === "slow consumer cut off") cutOffs.push(fields); },
  };
}

for (const directWrite of [true, false]) {
  test(`a stalled reader that reads again gets complete frames, then one close frame 1013 (${directWrite ? "direct wire" : "ws.send"})`, async () => {
    const logger = cutOffLog();
    const server = await pool.start({ maxBufferedBytes: 256 * 1024, slowConsumerCloseTimeoutMs: 60_000, directWrite, logger });
    const client = await RawTcpClient.open(server.port, "/socket/websocket?vsn=2.0.0");
    client.send(["1", "1", "room:slow", "phx_join", {}]);
    await client.until(() => client.frames.length === 1);
    assert.deepEqual(JSON.parse(client.frames[0]!.payload.toString()), ["1", "1", "room:slow", "phx_reply", { status: "ok", response: {} }]);

    // The client stops reading; the server broadcasts, one message a tick, until it cuts the client
    // off (the kernel's buffers take a few MiB first).
    client.socket.pause();
    const chunk = "x".repeat(64 * 1024);
    let sent = 0;
    while (logger.cutOffs.length === 0) {
      assert.ok(sent < 4000, "cut off before 250 MiB were sent");
      server.endpoint.broadcast("room:slow", "blob", { i: sent++, chunk });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const sentAtCutOff = sent;
    for (let i = 0; i < 8; i++) server.endpoint.broadcast("room:slow", "blob", { i: sent++, chunk });  // not sent to a cut-off client

    client.socket.resume();
    await client.until(() => client.frames.some((frame) => frame.opcode === 0x8));
    const frames = client.frames.slice(1);
    const close = frames.pop()!;
    assert.equal(close.opcode, 0x8, "the last frame is a close frame");
    assert.equal(close.payload.readUInt16BE(0), 1013);
    assert.equal(close.payload.subarray(2).toString(), "slow consumer");
    assert.ok(frames.length > 0, "some broadcasts were read before the close frame");
    frames.forEach((frame, i) => {
      assert.equal(frame.opcode, 0x1, `frame ${i} is a text frame`);
      const [, , topic, event, payload] = JSON.parse(frame.payload.toString()) as [null, null, string, string, { i: number; chunk: string }];
      assert.deepEqual([topic, event, payload.i, payload.chunk.length], ["room:slow", "blob", i, chunk.length], `broadcast ${i} in order, whole`);
    });
    const dropped = logger.cutOffs[0]!.dropped as number;
    assert.ok(dropped > 0, "Cinder's own backlog was dropped");
    assert.ok(frames.length <= sentAtCutOff - dropped, "and none of it was delivered");

    client.sendClose(1013);
    await client.until(() => client.ended);
    assert.equal(client.ended, true, "the server closes the connection after the closing handshake");
    assert.equal(logger.cutOffs.length, 1);
  });
}

for (const directWrite of [true, false]) {
  test(`a heartbeat reply overtakes the backlog held for a stalled reader, which still gets every broadcast in order (${directWrite ? "direct wire" : "ws.send"})`, async () => {
    // phoenix.js waits one heartbeat interval for the reply, then closes, reconnects and rejoins:
    // a reply queued behind MiBs a slow reader has not read yet makes a live client churn.
    const server = await pool.start({ maxBufferedBytes: 64 * 1024 * 1024, directWrite });
    const client = await RawTcpClient.open(server.port, "/socket/websocket?vsn=2.0.0");
    client.send(["1", "1", "room:slow", "phx_join", {}]);
    await client.until(() => client.frames.length === 1);

    client.socket.pause();
    const chunk = "x".repeat(64 * 1024);
    const total = 320; // 20 MiB: past what the kernel's buffers take, most of it held by the server
    for (let i = 0; i < total; i++) {
      server.endpoint.broadcast("room:slow", "blob", { i, chunk });
      if (i % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    client.send([null, "hb", "phoenix", "heartbeat", {}]);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server reads it while the client reads nothing
    client.socket.resume();
    await client.until(() => client.frames.length === 1 + total + 1);

    const messages = client.frames.slice(1).map((frame) => JSON.parse(frame.payload.toString()) as [unknown, unknown, string, string, { i?: number }]);
    const at = messages.findIndex(([, ref, topic]) => topic === "phoenix" && ref === "hb");
    assert.ok(at !== -1, "the heartbeat was answered");
    assert.deepEqual(messages[at]!.slice(2), ["phoenix", "phx_reply", { status: "ok", response: {} }]);
    const broadcasts = messages.filter((_, index) => index !== at).map(([, , , , payload]) => payload.i);
    assert.deepEqual(broadcasts, Array.from({ length: total }, (_, i) => i), "every broadcast, in order");
    // Ahead of the reply: what the kernel's buffers and one flush held, not the server's backlog.
    assert.ok(total - at >= total / 4, `the reply came after ${at} of ${total} broadcasts (at most 3/4 expected)`);
  });
}
