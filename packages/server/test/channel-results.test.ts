/**
 * What channel callbacks may return, over a real WebSocket: a bad return from `join` refuses the
 * join, one from `handleIn`, `handleOut` or `handleInfo` crashes the channel (`phx_error`), and
 * the logged error shows the value that was returned. Valid returns keep working.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { BadReturnError, defineChannel, defineSocket, ok, reply, stop, type Logger } from "../src/index.js";
import { startServer, type TestServer } from "./support/server.js";
import { RawClient } from "./support/raw-client.js";

/** An error logged by the endpoint. */
type Logged = { message: string; err: unknown };
const errors: Logged[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(fields, message) { errors.push({ message, err: fields.err }); },
};

/** What each callback returns, chosen per join by the `returns` param. */
type Returns = { join?: string; handleOut?: string; handleInfo?: string };
const chosen: Record<string, unknown> = {
  "plain ok": { ok: true },
  "queued reply": reply("queued"),
  "a string": "done",
  "the number 42": 42,
  "ok()": ok(),
  "stop()": stop("normal"),
};

const Results = defineChannel({
  intercept: ["shout"],
  join(_topic: string, params: { returns?: Returns }, socket) {
    socket.assign({ returns: params.returns ?? {} });
    const pick = params.returns?.join;
    return (pick === undefined ? ok() : chosen[pick]) as ReturnType<typeof ok>;
  },
  async handleIn(event: string, _payload: unknown, socket) {
    if (event === "tell") {
      socket.send("info");
      return ok();
    }
    if (event === "shout") {
      socket.broadcast("shout", {});
      return ok();
    }
    await Promise.resolve();
    return chosen[event] as ReturnType<typeof ok>;
  },
  handleOut(_event, _payload, socket) {
    const pick = (socket.assigns.returns as Returns).handleOut;
    return (pick === undefined ? undefined : chosen[pick]) as undefined;
  },
  handleInfo(_message, socket) {
    const pick = (socket.assigns.returns as Returns).handleInfo;
    return (pick === undefined ? undefined : chosen[pick]) as undefined;
  },
});

let server: TestServer;
const clients: RawClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await server?.close();
});

async function joined(topic: string, returns: Returns = {}): Promise<{ client: RawClient; joinReply: unknown }> {
  server ??= await startServer({ socket: defineSocket({ channels: { "results:*": Results } }), logger });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  clients.push(client);
  client.send(["1", "1", topic, "phx_join", { returns }]);
  return { client, joinReply: (await client.reply("1"))[4] };
}

/** The logged BadReturnError of `callback`, once it has been logged. */
function loggedBadReturn(client: RawClient, callback: string): Promise<Logged & { err: BadReturnError }> {
  return client.waitFor(() => errors.find((e): e is Logged & { err: BadReturnError } =>
    e.err instanceof BadReturnError && e.err.callback === callback), 2000);
}

test("join returning a reply other than ok or error is refused as a crashed join; the log shows the reply", async () => {
  const { client, joinReply } = await joined("results:join-queued", { join: "queued reply" });
  assert.deepEqual(joinReply, { status: "error", response: { reason: "join crashed" } });
  const logged = await loggedBadReturn(client, "join");
  assert.equal(logged.message, "join returned a bad value");
  assert.equal(logged.err.message, "join returned { kind: 'reply', status: 'queued', response: {} }; expected ok(...), error(...) or nothing");
  errors.length = 0;
});

test("join returning a plain object (not ok()) is refused; the topic can then be joined properly", async () => {
  const { client, joinReply } = await joined("results:join-plain", { join: "plain ok" });
  assert.deepEqual(joinReply, { status: "error", response: { reason: "join crashed" } });
  assert.equal((await loggedBadReturn(client, "join")).err.value, chosen["plain ok"]);
  client.send(["2", "2", "results:join-plain", "phx_join", {}]);
  assert.deepEqual((await client.reply("2"))[4], { status: "ok", response: {} });
  errors.length = 0;
});

test("handleIn returning a bad value (after an await) crashes the channel; the log shows the awaited value", async () => {
  const { client } = await joined("results:in");
  client.send(["1", "2", "results:in", "the number 42", {}]);
  assert.deepEqual(await client.next((f) => f[3] === "phx_error"), ["1", "1", "results:in", "phx_error", { reason: "channel_crash" }]);
  const logged = await loggedBadReturn(client, "handleIn");
  assert.equal(logged.message, "channel crashed");
  assert.equal(logged.err.message, "handleIn returned 42; expected ok(...), error(...), reply(...), stop(...) or nothing");
  errors.length = 0;
});

test("handleIn's valid returns still reply, with any status", async () => {
  const { client } = await joined("results:in-valid");
  client.send(["1", "2", "results:in-valid", "queued reply", {}]);
  assert.deepEqual((await client.reply("2"))[4], { status: "queued", response: {} });
  client.send(["1", "3", "results:in-valid", "stop()", {}]);
  assert.deepEqual(await client.next((f) => f[3] === "phx_close"), ["1", "1", "results:in-valid", "phx_close", {}]);
  assert.deepEqual(errors, []);
});

test("handleOut returning a reply (it has no one to reply to) crashes the channel; the log shows the reply", async () => {
  const { client } = await joined("results:out", { handleOut: "ok()" });
  client.send(["1", "2", "results:out", "shout", {}]);
  await client.reply("2");
  await client.next((f) => f[3] === "phx_error");
  const logged = await loggedBadReturn(client, "handleOut");
  assert.equal(logged.err.message, "handleOut returned { kind: 'reply', status: 'ok', response: {} }; expected stop(...) or nothing");
  errors.length = 0;
});

test("handleOut returning stop() closes the channel cleanly", async () => {
  const { client } = await joined("results:out-stop", { handleOut: "stop()" });
  client.send(["1", "2", "results:out-stop", "shout", {}]);
  assert.deepEqual(await client.next((f) => f[3] === "phx_close"), ["1", "1", "results:out-stop", "phx_close", {}]);
  assert.deepEqual(errors, []);
});

test("handleInfo returning a string crashes the channel; the log shows the string", async () => {
  const { client } = await joined("results:info", { handleInfo: "a string" });
  client.send(["1", "2", "results:info", "tell", {}]);
  await client.next((f) => f[3] === "phx_error");
  const logged = await loggedBadReturn(client, "handleInfo");
  assert.equal(logged.err.message, "handleInfo returned 'done'; expected stop(...) or nothing");
  errors.length = 0;
});
