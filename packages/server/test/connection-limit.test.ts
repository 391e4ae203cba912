/**
 * The per-process connection limit: a WebSocket or long-poll session over `maxConnections` gets
 * HTTP 503 with Retry-After and a plain-text body at once, one log line covers a burst of
 * refusals, and room is back once a connection closes. The default comes from the fd limit.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { defineSocket, type Logger } from "../src/index.js";
import { defaultMaxConnections, fdReserve, parseFdLimit } from "../src/connection-limit.js";
import { serverPool } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";

const pool = serverPool({ socket: defineSocket({ connect: () => ({}), channels: {} }) });
after(() => pool.closeAll());

function recordingLogger(warnings: { message: string; fields: Record<string, unknown> }[]): Logger {
  return { debug() {}, info() {}, error() {}, warn(fields, message) { warnings.push({ message, fields }); } };
}

/** Sends a WebSocket upgrade and resolves with the plain HTTP response it gets instead. */
function refusedUpgrade(port: number): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", path: "/socket/websocket?vsn=2.0.0", headers: {
      connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    } });
    req.on("upgrade", () => reject(new Error("upgraded although full")));
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => { body += chunk.toString(); });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("over maxConnections: 503 with Retry-After and a clear body, one log line, room again after a close", async () => {
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const server = await pool.start({ maxConnections: 2, longpoll: true, logger: recordingLogger(warnings) });
  assert.equal(server.endpoint.maxConnections, 2);
  const first = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  const second = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  const refused = await refusedUpgrade(server.port);
  assert.equal(refused.status, 503);
  assert.equal(refused.retryAfter, "1");
  assert.match(refused.body, /server full: this process holds 2 of its 2 connections/);
  await assert.rejects(RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`), (e: { status: number }) => e.status === 503);
  const lp = await fetch(`http://127.0.0.1:${server.port}/socket/longpoll?vsn=2.0.0`);
  assert.equal(lp.status, 503);
  assert.match(await lp.text(), /server full/);
  const lines = warnings.filter((w) => w.message.includes("maxConnections"));
  assert.equal(lines.length, 1, "three refusals in a burst, one line");
  assert.deepEqual(lines[0]?.fields, { open: 2, maxConnections: 2, refused: 1 });
  first.close();
  await first.closed();
  for (let i = 0; server.endpoint.connectionCount > 1; i++) {
    if (i > 200) throw new Error("the closed connection still counts");
    await sleep(10);
  }
  const third = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  third.close();
  second.close();
});

test("the default limit is the fd limit of /proc/self/limits minus the reserve", () => {
  assert.equal(parseFdLimit("Limit Soft Hard Units\nMax open files            20000                20000                files\n"), 20_000);
  assert.equal(parseFdLimit("Max open files            unlimited            unlimited            files\n"), undefined);
  assert.equal(fdReserve(20_000), 1_000);
  assert.equal(fdReserve(400), 100);
  assert.equal(defaultMaxConnections("/nonexistent/limits"), 0);
  const limit = parseFdLimit(readFileSync("/proc/self/limits", "utf8"));
  assert.equal(defaultMaxConnections(), limit === undefined ? 0 : limit - fdReserve(limit));
  const server = pool.start({ maxConnections: -1 });
  return assert.rejects(server, /maxConnections must be a non-negative integer/);
});
