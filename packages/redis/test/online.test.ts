/**
 * User-level online/offline across real node processes (the conformance server) joined by
 * Redis, with a short leave grace (2.5 s) and down period (1 s). Users are phoenix.js clients
 * (their `Presence` keeps working on the same topics); each node has an observer on
 * `@cinder/client` that opted in (`{online: true}`) and counts its `onOnline` / `onOffline`
 * callbacks, and each node's server hooks are read from `GET /presence/events`.
 *
 * - a reload within the grace, onto the other node: no event anywhere, the online count never dips;
 * - a leave past the grace: exactly one offline on every node, not before the grace;
 * - a drained node (SIGTERM) whose users reconnect to another node: no event anywhere; the node
 *   that started while users were online reported none of them as news;
 * - a SIGKILLed node: its users go offline on every node after the down period (counted from the
 *   node's last heartbeat, which came at most half a down period before the kill) plus the grace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { Presence, Socket } from "@cinder/client";
import { connect, startNode, until, type Client, type Node } from "./support/cluster.js";
import { missing, reachable, REDIS_URL } from "./support/services.js";

const GRACE = 2_500;
const DOWN = 1_000;
const env = { CINDER_PRESENCE_GRACE_MS: String(GRACE), CINDER_PRESENCE_DOWN_MS: String(DOWN), CINDER_DRAIN_WINDOW_MS: "300" };

/** An opted-in `@cinder/client` observer of one room on one node. */
interface Observer {
  socket: Socket;
  presence: Presence;
  /** "online:<key>" / "offline:<key>" from the client callbacks, in order. */
  events: string[];
  /** The smallest online count seen since `resetLow()` (sampled every 10 ms). */
  low(): number;
  resetLow(): void;
  close(): void;
}

function observe(node: Node, room: string): Observer {
  const socket = new Socket(`ws://127.0.0.1:${node.port}/socket`, { transport: WebSocket, params: { user: `watch-${node.name}` }, reconnectAfterMs: () => 100 });
  socket.connect();
  const channel = socket.channel(`presence:${room}`, { online: true });
  const presence = new Presence(channel);
  const events: string[] = [];
  presence.onOnline((key) => events.push(`online:${key}`));
  presence.onOffline((key) => events.push(`offline:${key}`));
  channel.join();
  let low = Infinity;
  const sampler = setInterval(() => { low = Math.min(low, presence.online().filter((k) => !k.startsWith("watch-")).length); }, 10);
  return {
    socket, presence, events, low: () => low, resetLow: () => { low = Infinity; },
    close: () => { clearInterval(sampler); socket.disconnect(); },
  };
}

/** The online/offline hook calls a node made for `topic`, as "online:<key>" / "offline:<key>". */
async function hooks(node: Node, topic: string): Promise<string[]> {
  const response = await fetch(`http://127.0.0.1:${node.port}/presence/events`);
  const events = await response.json() as Array<{ kind: string; topic: string; key: string }>;
  return events.filter((e) => e.topic === topic && !e.key.startsWith("watch-")).map((e) => `${e.kind}:${e.key}`);
}

const of = (events: string[], key: string): string[] => events.filter((e) => e.endsWith(`:${key}`));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Where routed clients (re)connect: the test moves them by changing the port. */
let routeTo = 0;

/** ws's WebSocket, sent to the port `routeTo` names whatever URL phoenix.js asks for (a load balancer). */
class RoutedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(String(url).replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${routeTo}`), protocols);
  }
}

test("online/offline across nodes over Redis: reload within the grace, leave past it, a drained node, a SIGKILLed node", { timeout: 90_000 }, async (t) => {
  if (!(await reachable(REDIS_URL))) { missing(t, `Redis at ${REDIS_URL}`); return; }
  const namespace = `cinder-online-${randomBytes(4).toString("hex")}`;
  const nodes: Node[] = await Promise.all(["n1", "n2"].map((name) => startNode(name, REDIS_URL, namespace, env)));
  const [n1, n2] = nodes as [Node, Node];
  const clients: Client[] = [];
  const observers: Observer[] = [];
  // The keys online when an observer joins are not news to it (packages/client/src/presence.ts),
  // so a user comes online only once both observers have their online state: each sees both.
  const watch = async (room: string): Promise<Observer[]> => {
    const pair = [observe(n1, room), observe(n2, room)];
    observers.push(...pair);
    const ready = (o: Observer): boolean => ["watch-n1", "watch-n2"].every((key) => o.presence.online().includes(key));
    await until(() => pair.every(ready), 8_000, `both observers of ${room} have their online state`);
    return pair;
  };
  const onlineEverywhere = (watchers: Observer[], key: string): boolean => watchers.every((o) => o.presence.isOnline(key));
  try {
    await t.test("a reload within the grace, onto the other node: no event anywhere, the count never dips", async () => {
      const watchers = await watch("reload");
      const alice = connect(n1, "alice", "reload");
      clients.push(alice);
      await until(() => onlineEverywhere(watchers, "alice"), 8_000, "alice online for both observers");
      for (const o of watchers) o.resetLow();
      alice.socket.disconnect();
      await sleep(300);
      const again = connect(n2, "alice", "reload");
      clients.push(again);
      await until(() => watchers.every((o) => o.presence.list((key) => key).includes("alice")), 5_000, "alice's new meta listed");
      await until(() => again.keys().includes("alice"), 5_000, "phoenix.js Presence lists alice on her new page");
      await sleep(GRACE + 800);
      for (const o of watchers) {
        assert.deepEqual(of(o.events, "alice"), ["online:alice"], `only the first online reached the observer (${o.socket.endPointURL()})`);
        assert.equal(o.low(), 1, "the online count never dipped");
      }
      for (const node of [n1, n2]) assert.deepEqual(of(await hooks(node, "presence:reload"), "alice"), ["online:alice"], `${node.name}: one online, no offline`);
    });

    await t.test("a leave past the grace: exactly one offline on every node, not before the grace", async () => {
      const watchers = await watch("leave");
      const bob = connect(n2, "bob", "leave");
      clients.push(bob);
      await until(() => onlineEverywhere(watchers, "bob"), 8_000, "bob online for both observers");
      const leftAt = Date.now();
      bob.socket.disconnect();
      await until(() => watchers.every((o) => !o.presence.list((key) => key).includes("bob")), 5_000, "bob's meta gone");
      assert.ok(watchers.every((o) => o.presence.isOnline("bob")), "bob still online within the grace");
      await until(() => watchers.every((o) => !o.presence.isOnline("bob")), GRACE + 5_000, "bob offline for both observers");
      const after = Date.now() - leftAt;
      t.diagnostic(`offline ${after} ms after the leave (grace ${GRACE} ms)`);
      assert.ok(after >= GRACE - 50, `not before the grace (${after} ms)`);
      await sleep(500);
      for (const o of watchers) assert.deepEqual(of(o.events, "bob"), ["online:bob", "offline:bob"]);
      for (const node of [n1, n2]) assert.deepEqual(of(await hooks(node, "presence:leave"), "bob"), ["online:bob", "offline:bob"], `${node.name}: exactly one offline`);
    });

    await t.test("a drained node's users reconnect to another node: no event anywhere", async () => {
      const n3 = await startNode("n3", REDIS_URL, namespace, env);
      nodes.push(n3);
      const watchers = await watch("drain");
      routeTo = n3.port;
      const movers = ["carol", "dave"].map((user) => connect(n3, user, "drain", RoutedWebSocket));
      clients.push(...movers);
      await until(() => onlineEverywhere(watchers, "carol") && onlineEverywhere(watchers, "dave"), 8_000, "carol and dave online for both observers");
      await sleep(1_000);
      const news = (await Promise.all(["presence:reload", "presence:leave", "presence:drain"].map((topic) => hooks(n3, topic)))).flat();
      assert.deepEqual(news.sort(), ["online:carol", "online:dave"], "n3 reported only the users who came online on it, not those online before it started");
      for (const o of watchers) o.resetLow();
      routeTo = n2.port;
      await n3.stop("SIGTERM");
      await until(() => movers.every((c) => c.closeCodes.includes(1012) && c.socket.isConnected() && c.keys().includes(c === movers[0] ? "carol" : "dave")), 8_000, "carol and dave moved to n2");
      await sleep(GRACE + 800);
      for (const o of watchers) {
        for (const user of ["carol", "dave"]) assert.deepEqual(of(o.events, user), [`online:${user}`], `${user}: no event for the move`);
        assert.equal(o.low(), 2, "the online count never dipped");
      }
      for (const node of [n1, n2]) {
        const events = await hooks(node, "presence:drain");
        for (const user of ["carol", "dave"]) assert.deepEqual(of(events, user), [`online:${user}`], `${node.name}: ${user} moved without events`);
      }
    });

    await t.test("a SIGKILLed node: its users go offline on every node after the down period plus the grace", async () => {
      const n4 = await startNode("n4", REDIS_URL, namespace, env);
      nodes.push(n4);
      const watchers = await watch("kill");
      const erin = connect(n4, "erin", "kill");
      clients.push(erin);
      await until(() => onlineEverywhere(watchers, "erin"), 8_000, "erin online for both observers");
      const killedAt = Date.now();
      await n4.stop("SIGKILL");
      await until(() => watchers.every((o) => !o.presence.isOnline("erin")), DOWN + GRACE + 8_000, "erin offline for both observers");
      const after = Date.now() - killedAt;
      t.diagnostic(`offline ${after} ms after the SIGKILL (down period ${DOWN} ms + grace ${GRACE} ms)`);
      // The down period runs from the last heartbeat heard, at most half a down period before the kill.
      assert.ok(after >= DOWN / 2 + GRACE - 50, `not before the down period plus the grace (${after} ms)`);
      await sleep(300);
      for (const o of watchers) assert.deepEqual(of(o.events, "erin"), ["online:erin", "offline:erin"]);
      for (const node of [n1, n2]) assert.deepEqual(of(await hooks(node, "presence:kill"), "erin"), ["online:erin", "offline:erin"], `${node.name}: exactly one offline`);
    });
  } finally {
    for (const client of clients) client.socket.disconnect();
    for (const observer of observers) observer.close();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
});
