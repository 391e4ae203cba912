/**
 * The wire under `ws` (transport/ws-wire.ts): the direct write of prebuilt frames is chosen when
 * `ws`'s internals are as expected, and `ws.send` otherwise (checked at the first connection,
 * logged once) or when turned off; both deliver every frame intact and in order, interleaved
 * with `ws`'s own frames.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { Frame, type Logger } from "../src/index.js";
import { WireFactory, checkDirectWrite } from "../src/transport/ws-wire.js";

/** A logger that remembers its warnings. */
function warningsLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn(_fields, message) { warnings.push(message); } };
}

/** A real ws server and a connected ws client; the server side's WebSocket for each connection. */
async function pair(deflate: boolean): Promise<{ server: WebSocket; client: WebSocket; received: Array<{ data: Buffer; binary: boolean }>; close(): Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: deflate });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<WebSocket>((resolve) => wss.once("connection", resolve));
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`, { perMessageDeflate: deflate });
  const received: Array<{ data: Buffer; binary: boolean }> = [];
  client.on("message", (data, binary) => received.push({ data: data as Buffer, binary }));
  await new Promise((resolve) => client.once("open", resolve));
  const server = await accepted;
  return {
    server, client, received,
    async close() {
      client.terminate();
      wss.close();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/** Text and binary frames whose lengths cross every WebSocket header size. */
const frames = [0, 5, 125, 126, 127, 65_535, 65_536, 100_000].flatMap((n, i) => [
  Frame.text(JSON.stringify({ i, s: "x".repeat(n) })),
  Frame.binary(new Uint8Array(n).fill(i)),
  // A frame spliced around a shared payload (a presence_state): several chunks, one writev.
  Frame.textParts(`[null,null,"t",${i},`, [Buffer.from(`{"s":"${"y".repeat(n)}"`), Buffer.from("}")], "]"),
]);

/** Writes every frame on `server`'s wire, a ping from ws itself in the middle, and checks what `client` received. */
async function roundTrip(p: Awaited<ReturnType<typeof pair>>, wires: WireFactory): Promise<string> {
  const wire = wires.open(p.server, () => {});
  const pinged = new Promise((resolve) => p.client.once("ping", resolve));
  const all = new Promise<void>((resolve) => p.client.on("message", () => { if (p.received.length === frames.length) resolve(); }));
  frames.forEach((frame, i) => {
    wire.write(frame);
    if (i === frames.length / 2) p.server.ping();  // ws's own frame, between ours
  });
  await pinged;
  await all;
  assert.equal(p.received.length, frames.length);
  p.received.forEach(({ data, binary }, i) => {
    assert.equal(binary, frames[i]!.binary, `frame ${i} type`);
    assert.ok(data.equals(frames[i]!.bytes), `frame ${i} bytes`);
  });
  return wire.mode;
}

test("ws 8 without extensions passes the check: the direct wire writes every frame intact and in order", async () => {
  const p = await pair(false);
  try {
    assert.equal(checkDirectWrite(p.server).ok, true);
    const logger = warningsLogger();
    assert.equal(await roundTrip(p, new WireFactory(true, logger)), "direct");
    assert.deepEqual(logger.warnings, []);
  } finally {
    await p.close();
  }
});

test("internals not as expected (an extension negotiated): logged once, ws.send used, every frame intact and in order", async () => {
  const logger = warningsLogger();
  const wires = new WireFactory(true, logger);
  for (let i = 0; i < 2; i++) {
    const p = await pair(true);
    try {
      const check = checkDirectWrite(p.server);
      assert.equal(check.ok, false);
      assert.match(check.ok ? "" : check.reason, /permessage-deflate/);
      assert.equal(await roundTrip(p, wires), "send");
    } finally {
      await p.close();
    }
  }
  assert.deepEqual(logger.warnings, ["ws internals are not as expected; writing with ws.send on every connection"]);
});

test("directWrite off: ws.send even where the direct wire would pass; nothing logged", async () => {
  const p = await pair(false);
  try {
    const logger = warningsLogger();
    assert.equal(await roundTrip(p, new WireFactory(false, logger)), "send");
    assert.deepEqual(logger.warnings, []);
  } finally {
    await p.close();
  }
});
