/**
 * Recovery on rejoin over real WebSockets with the official phoenix client, in the few lines a
 * phoenix.js user writes (a params closure holding the last position): a client cut off while
 * broadcasts flow gets every one it missed, in order and once, with `recovered: true`; past the
 * history or from another epoch it is told `recovered: false` with the current position; plain
 * clients keep working on stream topics; live broadcasts racing a slow replay arrive once and
 * in order (seeded interleavings).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Socket as PhoenixSocket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import {
  MemoryHistory, PubSub, defineChannel, defineSocket, ok, parsePosition,
  type HistoryRead, type HistoryStore, type StreamLimits, type StreamPosition,
} from "../src/index.js";
import { serverPool } from "./support/server.js";
import { prng } from "./support/prng.js";
import { sleep } from "./support/raw-client.js";

const Feed = defineChannel({ history: { size: 300, ttlMs: 60_000 }, join: () => ok({ hello: "world" }) });
const Small = defineChannel({ history: { size: 20 }, join: () => ok() });
const Plain = defineChannel({ join: () => ok() });
const socket = defineSocket({ connect: () => ({}), channels: { "feed:*": Feed, "small:*": Small, "plain:*": Plain } });
const pool = serverPool({ socket });
after(() => pool.closeAll());

/** Resolves once `check` holds (polled; fails after 10 s). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > 10_000) throw new Error(`not reached within 10 s: ${what}`);
    await sleep(10);
  }
}

/** A phoenix.js client that keeps the last stream position it saw, as the README shows. */
class Follower {
  readonly socket: PhoenixSocket;
  readonly channel: Channel;
  readonly received: number[] = [];
  readonly replies: Array<{ position: string | null; recovered: boolean }> = [];
  position: string | true = true;

  constructor(url: string, topic: string) {
    this.socket = new PhoenixSocket(url, { transport: WebSocket, reconnectAfterMs: () => 20, rejoinAfterMs: () => 20 });
    this.channel = this.socket.channel(topic, () => ({ stream: this.position }));
    this.channel.on("n", (payload: { n: number }, ref?: string | null) => {
      this.received.push(payload.n);
      if (typeof ref === "string") this.position = ref;
    });
    this.channel.join().receive("ok", (response: { stream: { position: string | null; recovered: boolean } }) => {
      this.replies.push(response.stream);
      if (response.stream.position !== null) this.position = response.stream.position;
    });
  }

  connect(): void {
    this.socket.connect();
  }

  get joined(): boolean {
    return this.channel.state === "joined";
  }
}

test("a client cut off while 200 broadcasts flow recovers all 200 on rejoin, in order, once, with recovered: true", async () => {
  const server = await pool.start();
  const follower = new Follower(server.socketUrl, "feed:a");
  follower.connect();
  await until(() => follower.joined, "first join");
  assert.deepEqual(follower.replies[0]?.recovered, false, "a first join has nothing to recover");
  for (let n = 1; n <= 10; n++) server.endpoint.broadcast("feed:a", "n", { n });
  await until(() => follower.received.length === 10, "live broadcasts");
  follower.socket.disconnect();
  await until(() => server.endpoint.connectionCount === 0, "cut off");
  for (let n = 11; n <= 210; n++) server.endpoint.broadcast("feed:a", "n", { n });
  follower.connect();
  await until(() => follower.received.length >= 210 && follower.replies.length === 2, "recovery");
  for (let n = 211; n <= 215; n++) server.endpoint.broadcast("feed:a", "n", { n });
  await until(() => follower.received.length >= 215, "live after recovery");
  await sleep(50);
  assert.deepEqual(follower.received, Array.from({ length: 215 }, (_, i) => i + 1));
  assert.equal(follower.replies[1]?.recovered, true);
  follower.socket.disconnect();
});

test("past the history the rejoin says recovered: false with the current position, and replays nothing", async () => {
  const server = await pool.start();
  const follower = new Follower(server.socketUrl, "small:a");
  follower.connect();
  await until(() => follower.joined, "first join");
  follower.socket.disconnect();
  await until(() => server.endpoint.connectionCount === 0, "cut off");
  for (let n = 1; n <= 50; n++) server.endpoint.broadcast("small:a", "n", { n });
  follower.connect();
  await until(() => follower.replies.length === 2, "rejoin");
  const reply = follower.replies[1]!;
  assert.equal(reply.recovered, false);
  assert.equal(parsePosition(reply.position)?.offset, 50, "the current position, so the app can refetch and go on");
  server.endpoint.broadcast("small:a", "n", { n: 51 });
  await until(() => follower.received.length === 1, "live");
  assert.deepEqual(follower.received, [51]);
  follower.socket.disconnect();
});

test("a position from another epoch (the server restarted) is answered recovered: false", async () => {
  const first = await pool.start();
  first.endpoint.broadcast("feed:e", "n", { n: 1 });
  const read = await first.endpoint.history("feed:e", { last: 1 });
  assert.ok(read?.kind === "complete");
  const second = await pool.start();
  second.endpoint.broadcast("feed:e", "n", { n: 1 });
  const follower = new Follower(second.socketUrl, "feed:e");
  follower.position = `${read.position.epoch}:1`;
  follower.connect();
  await until(() => follower.replies.length === 1, "join");
  assert.equal(follower.replies[0]!.recovered, false);
  assert.notEqual(parsePosition(follower.replies[0]!.position)?.epoch, read.position.epoch);
  follower.socket.disconnect();
});

test("clients that do not opt in see stream topics as plain Phoenix topics: untouched join response, broadcasts with a null ref", async () => {
  const server = await pool.start();
  const plain = new PhoenixSocket(server.socketUrl, { transport: WebSocket });
  plain.connect();
  const seen: Array<{ payload: unknown; ref: unknown }> = [];
  let response: unknown;
  const channel = plain.channel("feed:p", {});
  channel.on("n", (payload: unknown, ref: unknown) => seen.push({ payload, ref }));
  channel.join().receive("ok", (r: unknown) => { response = r; });
  await until(() => channel.state === "joined", "join");
  assert.deepEqual(response, { hello: "world" }, "the app's join response is untouched");
  server.endpoint.broadcast("feed:p", "n", { n: 1 });
  server.endpoint.broadcast("plain:p", "n", { n: 0 });
  await until(() => seen.length === 1, "broadcast");
  assert.deepEqual(seen[0]!.payload, { n: 1 });
  assert.equal(seen[0]!.ref, null, "the position goes only to clients that joined with the stream param");
  plain.disconnect();
});

test("the History API: the last N from server code and from a client joining with {stream: {last: N}}", async () => {
  const server = await pool.start();
  for (let n = 1; n <= 30; n++) server.endpoint.broadcast("feed:h", "n", { n });
  const read = await server.endpoint.history("feed:h", { last: 5 });
  assert.ok(read?.kind === "complete");
  assert.deepEqual(read.publications.map((p) => (p.payload as { n: number }).n), [26, 27, 28, 29, 30]);
  assert.equal(await server.endpoint.history("plain:h", { last: 5 }), undefined, "no history on a plain topic");
  const since = await server.endpoint.history("feed:h", { since: { epoch: read.position.epoch, offset: 28 } });
  assert.ok(since?.kind === "complete");
  assert.deepEqual(since.publications.map((p) => p.position.offset), [29, 30]);

  const client = new PhoenixSocket(server.socketUrl, { transport: WebSocket });
  client.connect();
  const got: number[] = [];
  const channel = client.channel("feed:h", { stream: { last: 3 } });
  channel.on("n", (payload: { n: number }) => got.push(payload.n));
  channel.join();
  await until(() => got.length === 3, "last 3");
  assert.deepEqual(got, [28, 29, 30]);
  client.disconnect();
});

/** A history store whose reads answer late, after a seeded number of turns, so live broadcasts race the replay. */
class SlowReads implements HistoryStore {
  readonly deliversItself = false;
  private readonly inner = new MemoryHistory();
  constructor(private readonly random: () => number) {}
  append(topic: string, event: string, payload: unknown, limits: StreamLimits) {
    return this.inner.append(topic, event, payload, limits);
  }
  async since(topic: string, from: StreamPosition, limits: StreamLimits): Promise<HistoryRead> {
    await this.turns();
    return this.inner.since(topic, from, limits);
  }
  async last(topic: string, count: number, limits: StreamLimits): Promise<HistoryRead> {
    await this.turns();
    return this.inner.last(topic, count, limits);
  }
  close(): void {
    this.inner.close();
  }
  private async turns(): Promise<void> {
    const turns = Math.floor(this.random() * 6);
    for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  }
}

test("broadcasts racing the replay arrive once and in order (40 seeded interleavings)", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = prng(seed);
    const server = await pool.start({ pubsub: new PubSub({ history: new SlowReads(random) }) });
    const topic = `feed:race${seed}`;
    const follower = new Follower(server.socketUrl, topic);
    follower.connect();
    await until(() => follower.joined, `seed ${seed}: join`);
    let n = 0;
    const publish = (count: number): void => {
      for (let i = 0; i < count; i++) server.endpoint.broadcast(topic, "n", { n: ++n });
    };
    publish(1 + Math.floor(random() * 5));
    await until(() => follower.received.length === n, `seed ${seed}: live`);
    follower.socket.disconnect();
    await until(() => server.endpoint.connectionCount === 0, `seed ${seed}: cut off`);
    publish(Math.floor(random() * 20));
    follower.connect();
    // Publish while the rejoin is in flight: some land before the read, some while it is pending, some after.
    for (let burst = 0; burst < 8; burst++) {
      publish(Math.floor(random() * 4));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => follower.replies.length === 2, `seed ${seed}: rejoin`);
    publish(1);
    await until(() => follower.received.length >= n, `seed ${seed}: all ${n}`);
    await sleep(20);
    assert.deepEqual(follower.received, Array.from({ length: n }, (_, i) => i + 1), `seed ${seed}`);
    assert.equal(follower.replies[1]!.recovered, true, `seed ${seed}`);
    follower.socket.disconnect();
    await server.close();
  }
});
