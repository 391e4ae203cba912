/**
 * Channel behaviour over a real WebSocket: the mailbox (one message at a time, async included),
 * crash isolation, terminate on every ending, pushes during join, sendAfter, async replies,
 * typed payloads, a join that never answers, and channel limits.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { z } from "zod";
import { defineChannel, defineSocket, error, ok, stop, type ChannelSocket } from "../src/index.js";
import { startServer, type TestServer } from "./support/server.js";
import { RawClient, sleep } from "./support/raw-client.js";

const terminated: Array<{ topic: string; reason: string }> = [];
const exits: string[] = [];
let neverResolve: Promise<never> = new Promise(() => {});

type Counter = { count: number; log: number[] };

const Counter = defineChannel({
  join(_topic: string, params: unknown, socket: ChannelSocket<Counter>) {
    socket.assign({ count: 0, log: [] });
    socket.push("during_join", {});
    socket.send("after_join");
    socket.onExit(() => exits.push(socket.topic));
    if ((params as { hang?: boolean }).hang) return neverResolve;
    return ok({ joined: true });
  },
  async handleIn(event: string, payload: unknown, socket: ChannelSocket<Counter>) {
    switch (event) {
      case "slow_increment": {
        const before = socket.assigns.count;
        await sleep((payload as { ms: number }).ms);
        socket.assigns.count = before + 1;
        socket.assigns.log.push(socket.assigns.count);
        return ok({ count: socket.assigns.count });
      }
      case "read":
        return ok({ count: socket.assigns.count, log: socket.assigns.log });
      case "reject_async":
        await sleep(5);
        throw new Error("async crash");
      case "later_reply": {
        const ref = socket.replyRef();
        setTimeout(() => socket.reply(ref, ok({ late: true })), 20);
        return undefined;
      }
      case "stop_with_reply":
        return stop("shutdown:done", ok({ bye: true }));
      case "stop_abnormal":
        return stop("bad_state");
      case "timer":
        socket.sendAfter(30, "tick");
        return ok();
      default:
        return error({ reason: "what" });
    }
  },
  handleInfo(message: unknown, socket: ChannelSocket<Counter>) {
    if (message === "after_join") socket.push("after_join", { count: socket.assigns.count });
    if (message === "tick") socket.push("tick", {});
  },
  terminate(reason, socket) {
    terminated.push({ topic: socket.topic, reason });
  },
});

const Typed = defineChannel({
  events: {
    new_msg: z.object({ body: z.string().min(1).max(10) }),
    count: z.object({ n: z.coerce.number().int() }),
  },
  join: () => ok(),
  handleIn(event, payload, _socket) {
    if (event === "new_msg") return ok({ echoed: payload.body.toUpperCase() });
    return ok({ doubled: payload.n * 2 });
  },
});

const socket = defineSocket({ channels: { "counter:*": Counter, "typed:*": Typed } });

let server: TestServer;
const clients: RawClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function connect(): Promise<RawClient> {
  server ??= await startServer({ socket, maxChannels: 3, shutdownTimeoutMs: 200 });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  clients.push(client);
  return client;
}

async function join(client: RawClient, topic: string, ref: string, params: unknown = {}): Promise<unknown[]> {
  client.send([ref, ref, topic, "phx_join", params]);
  return client.reply(ref);
}

test("pushes made during join and the after_join message arrive after the join reply", async () => {
  const client = await connect();
  const start = client.received.length;
  await join(client, "counter:order", "1");
  await client.next((f) => f[3] === "after_join", 2000, start);
  const events = client.received.slice(start).map((r) => (r.binary ? "" : (r.json as unknown[])[3]));
  assert.deepEqual(events, ["phx_reply", "during_join", "after_join"]);
});

test("the mailbox runs one message at a time, across awaits", async () => {
  const client = await connect();
  await join(client, "counter:mailbox", "1");
  for (let i = 0; i < 5; i++) client.send(["1", String(10 + i), "counter:mailbox", "slow_increment", { ms: 5 * (5 - i) }]);
  const replies = await Promise.all([10, 11, 12, 13, 14].map((ref) => client.reply(String(ref))));
  assert.deepEqual(replies.map((r) => (r[4] as { response: { count: number } }).response.count), [1, 2, 3, 4, 5]);
  client.send(["1", "20", "counter:mailbox", "read", {}]);
  const read = await client.reply("20");
  assert.deepEqual((read[4] as { response: unknown }).response, { count: 5, log: [1, 2, 3, 4, 5] });
});

test("a crashing channel gets phx_error and ends alone; its siblings and other sockets carry on", async () => {
  const a = await connect();
  const b = await connect();
  await join(a, "counter:crash", "1");
  await join(a, "counter:sibling", "2");
  await join(b, "counter:crash", "3");
  a.send(["1", "5", "counter:crash", "reject_async", {}]);
  const err = await a.next((f) => f[3] === "phx_error");
  assert.deepEqual(err, ["1", "1", "counter:crash", "phx_error", { reason: "channel_crash" }]);
  a.send(["2", "6", "counter:sibling", "read", {}]);
  assert.equal(((await a.reply("6"))[4] as { status: string }).status, "ok");
  b.send(["3", "7", "counter:crash", "read", {}]);
  assert.equal(((await b.reply("7"))[4] as { status: string }).status, "ok");
  a.send(["1", "8", "counter:crash", "read", {}]);
  assert.deepEqual((await a.reply("8"))[4], { status: "error", response: { reason: "unmatched topic" } });
  await a.waitFor(() => terminated.find((t) => t.topic === "counter:crash" && t.reason === "crash"), 1000);
});

test("terminate runs on leave, clean stop, abnormal stop, duplicate join and transport close", async () => {
  const client = await connect();
  await join(client, "counter:t1", "1");
  client.send(["1", "2", "counter:t1", "phx_leave", {}]);
  await client.next((f) => f[2] === "counter:t1" && f[3] === "phx_close");
  await join(client, "counter:t2", "3");
  client.send(["3", "4", "counter:t2", "stop_with_reply", {}]);
  assert.deepEqual((await client.reply("4"))[4], { status: "ok", response: { bye: true } });
  assert.deepEqual(await client.next((f) => f[2] === "counter:t2" && f[3] === "phx_close"), ["3", "3", "counter:t2", "phx_close", {}]);
  await join(client, "counter:t3", "5");
  client.send(["5", "6", "counter:t3", "stop_abnormal", {}]);
  await client.next((f) => f[2] === "counter:t3" && f[3] === "phx_error");
  await join(client, "counter:t4", "7");
  await join(client, "counter:t4", "8");
  await client.next((f) => f[2] === "counter:t4" && f[3] === "phx_close" && f[0] === "7");
  client.close();
  await client.waitFor(() => (terminated.some((t) => t.topic === "counter:t4" && t.reason === "closed") ? true : undefined), 2000);
  const reasons = Object.fromEntries(["t1", "t2", "t3"].map((t) => [t, terminated.find((x) => x.topic === `counter:${t}`)?.reason]));
  assert.deepEqual(reasons, { t1: "left", t2: "shutdown:done", t3: "bad_state" });
  assert.ok(terminated.some((t) => t.topic === "counter:t4" && t.reason === "duplicate_join"));
  for (const topic of ["counter:t1", "counter:t2", "counter:t3", "counter:t4"]) assert.ok(exits.includes(topic), `exit callbacks ran for ${topic}`);
});

test("sendAfter reaches handleInfo later; replyRef answers after the handler returned", async () => {
  const client = await connect();
  await join(client, "counter:timers", "1");
  client.send(["1", "2", "counter:timers", "timer", {}]);
  await client.next((f) => f[3] === "tick", 1000);
  client.send(["1", "3", "counter:timers", "later_reply", {}]);
  assert.deepEqual((await client.reply("3"))[4], { status: "ok", response: { late: true } });
});

test("16: a join that never answers can be left, and the topic joined again", async () => {
  const client = await connect();
  client.send(["1", "1", "counter:hang", "phx_join", { hang: true }]);
  client.send([null, "2", "phoenix", "heartbeat", {}]);
  await client.reply("2");
  await sleep(100);
  assert.equal(client.received.filter((r) => !r.binary && (r.json as unknown[])[1] === "1").length, 0, "no join reply");
  client.send(["1", "3", "counter:hang", "phx_leave", {}]);
  assert.deepEqual((await client.reply("3"))[4], { status: "ok", response: {} });
  assert.deepEqual((await join(client, "counter:hang", "4"))[4], { status: "ok", response: { joined: true } });
  await client.waitFor(() => (exits.includes("counter:hang") ? true : undefined), 1000);
});

test("15: joins past maxChannels are refused with the join's join_ref", async () => {
  const client = await connect();
  for (let i = 0; i < 3; i++) await join(client, `counter:limit${i}`, String(i + 1));
  assert.deepEqual(await join(client, "counter:limit3", "9"),
    ["9", "9", "counter:limit3", "phx_reply", { status: "error", response: { reason: "too many channels joined" } }]);
});

test("typed events: valid payloads reach handleIn parsed; invalid ones get invalid_payload; unknown events are refused", async () => {
  const client = await connect();
  await join(client, "typed:1", "1");
  client.send(["1", "2", "typed:1", "new_msg", { body: "hi" }]);
  assert.deepEqual((await client.reply("2"))[4], { status: "ok", response: { echoed: "HI" } });
  client.send(["1", "3", "typed:1", "count", { n: "21" }]);
  assert.deepEqual((await client.reply("3"))[4], { status: "ok", response: { doubled: 42 } });
  client.send(["1", "4", "typed:1", "new_msg", { body: 1 }]);
  const invalid = (await client.reply("4"))[4] as { status: string; response: { reason: string; errors: Array<{ path: unknown[] }> } };
  assert.equal(invalid.status, "error");
  assert.equal(invalid.response.reason, "invalid_payload");
  assert.deepEqual(invalid.response.errors[0]!.path, ["body"]);
  client.send(["1", "5", "typed:1", "new_msg", { body: "far too long for this" }]);
  assert.equal(((await client.reply("5"))[4] as { response: { reason: string } }).response.reason, "invalid_payload");
  client.send(["1", "6", "typed:1", "nope", {}]);
  assert.deepEqual((await client.reply("6"))[4], { status: "error", response: { reason: "unknown_event", event: "nope" } });
});
