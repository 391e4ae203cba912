/**
 * `channel.useStream()`: the client keeps positions and recovers on every rejoin by itself,
 * tells the app through `recovered` and `onGap` when it could not, drops duplicates, and (with
 * `detectGaps`) turns a position that jumps into a rejoin. Against a real server; the verdicts
 * of the follower are checked one by one too.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket } from "ws";
import { attach, defineChannel, defineSocket, ok, silentLogger, type Endpoint } from "@cinder/server";
import { Socket, StreamFollower, type StreamGap } from "../src/index.js";
import { waitUntil } from "./support/server.js";

const Feed = defineChannel({ history: { size: 50 }, join: () => ok({ hello: "world" }) });
let http: Server;
let endpoint: Endpoint;
let url: string;
before(async () => {
  http = createServer();
  endpoint = attach(http, { logger: silentLogger, checkOrigin: false, socket: defineSocket({ connect: () => ({}), channels: { "feed:*": Feed } }) });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/socket`;
});
after(async () => {
  await endpoint.close();
  http.closeAllConnections();
  http.close();
});

function follow(topic: string): { socket: Socket; got: number[]; gaps: StreamGap[]; channel: ReturnType<Socket["channel"]> } {
  const socket = new Socket(url, { transport: WebSocket, reconnectAfterMs: () => 20, rejoinAfterMs: () => 20 });
  const channel = socket.channel(topic, {}).useStream();
  const got: number[] = [];
  const gaps: StreamGap[] = [];
  channel.on("n", (payload) => got.push((payload as { n: number }).n));
  channel.onGap((gap) => gaps.push(gap));
  socket.connect();
  channel.join();
  return { socket, got, gaps, channel };
}

test("useStream: a client cut off while 40 broadcasts flow gets all of them on reconnect, by itself, recovered = true", async () => {
  const { socket, got, gaps, channel } = follow("feed:a");
  await waitUntil(() => channel.state === "joined", 3000, "join");
  assert.equal(channel.recovered, false, "a first join recovers nothing");
  for (let n = 1; n <= 5; n++) endpoint.broadcast("feed:a", "n", { n });
  await waitUntil(() => got.length === 5, 3000, "live");
  socket.disconnect();
  for (let n = 6; n <= 45; n++) endpoint.broadcast("feed:a", "n", { n });
  socket.connect();
  await waitUntil(() => got.length >= 45, 5000, "recovery");
  assert.deepEqual(got, Array.from({ length: 45 }, (_, i) => i + 1));
  assert.equal(channel.recovered, true);
  assert.deepEqual(gaps, []);
  assert.match(channel.position ?? "", /:45$/);
  socket.disconnect();
});

test("useStream: past the history the rejoin calls onGap (reason rejoin) and recovered = false", async () => {
  const { socket, got, gaps, channel } = follow("feed:b");
  await waitUntil(() => channel.state === "joined", 3000, "join");
  endpoint.broadcast("feed:b", "n", { n: 1 });
  await waitUntil(() => got.length === 1, 3000, "live");
  socket.disconnect();
  for (let n = 2; n <= 80; n++) endpoint.broadcast("feed:b", "n", { n });
  socket.connect();
  await waitUntil(() => gaps.length === 1 && channel.state === "joined", 5000, "gap");
  assert.equal(gaps[0]!.reason, "rejoin");
  assert.match(gaps[0]!.position ?? "", /:80$/);
  assert.equal(channel.recovered, false);
  assert.deepEqual(got, [1], "nothing partial is replayed");
  socket.disconnect();
});

test("the follower: in-order positions are delivered, old ones are duplicates, a jump asks for recovery, a new epoch is a gap", () => {
  const follower = new StreamFollower({ detectGaps: true });
  const gaps: StreamGap[] = [];
  follower.onGap((gap) => gaps.push(gap));
  assert.equal(follower.joinParam(), true);
  follower.joined({ stream: { position: "e1:3", recovered: false } });
  assert.deepEqual(gaps, [], "a first join is no gap");
  assert.equal(follower.receive("e1:4"), "deliver");
  assert.equal(follower.receive("e1:4"), "duplicate");
  assert.equal(follower.receive("e1:2"), "duplicate");
  assert.equal(follower.receive("e1:6"), "recover");
  assert.equal(follower.position, "e1:4", "a jump does not move the position: the rejoin replays from it");
  assert.equal(follower.receive(null), "deliver", "pushes without a position pass");
  assert.equal(follower.receive("e2:1"), "deliver");
  assert.deepEqual(gaps, [{ reason: "epoch", from: "e1:4", position: "e2:1" }]);
  const lenient = new StreamFollower();
  lenient.joined({ stream: { position: "e1:1", recovered: false } });
  assert.equal(lenient.receive("e1:5"), "deliver", "without detectGaps a jump is delivered");
});
