/**
 * Observability: telemetry hooks fire for connect, join, handleIn and broadcast; the Prometheus
 * metrics built on them count connections by transport, channels by pattern, messages, fan-out,
 * presence members, errors, rate-limit refusals — read from a real scrape.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createMetrics, createPresence, defineChannel, defineSocket, ok, PubSub, silentLogger, type ChannelSocket, type Telemetry } from "../src/index.js";
import { serverPool } from "./support/server.js";
import { RawClient } from "./support/raw-client.js";

const pubsub = new PubSub();
const presence = createPresence({ pubsub, logger: silentLogger, diffWindowMs: 0 });
const Room = defineChannel({
  join(_t: string, _p: unknown, socket: ChannelSocket) {
    presence.track(socket, socket.ownerId, {});
    return ok();
  },
  handleIn(event: string, payload: unknown, socket: ChannelSocket) {
    if (event === "crash") throw new Error("boom");
    socket.broadcast("shout", payload);
    return ok();
  },
});
const socket = defineSocket({ channels: { "room:*": Room } });
const pool = serverPool({ socket, pubsub });
after(async () => {
  await presence.close();
  await pool.closeAll();
});

/** The value of one sample (name with labels, exactly as printed) in a Prometheus scrape. */
function value(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.split(" ")[0] === sample);
  if (line === undefined) throw new Error(`no ${sample} in\n${text}`);
  return Number(line.split(" ").at(-1));
}

test("telemetry hooks fire for connect, join, handleIn and broadcast", async () => {
  const events: string[] = [];
  const telemetry: Telemetry = {
    connect: (e) => events.push(`connect:${e.transport}:${e.accepted}`),
    join: (e) => events.push(`join:${e.pattern}:${e.status}:${e.durationMs >= 0}`),
    handleIn: (e) => events.push(`handle_in:${e.pattern}:${e.event}:${e.status}`),
    broadcast: (e) => events.push(`broadcast:${e.topic}:${e.subscribers}`),
  };
  const server = await pool.start({ telemetry, pubsub: new PubSub() });
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`);
  client.send(["1", "1", "room:t", "phx_join", {}]);
  await client.reply("1");
  client.send(["1", "2", "room:t", "shout", { a: 1 }]);
  await client.reply("2");
  assert.deepEqual(events, ["connect:websocket:true", "join:room:*:ok:true", "broadcast:room:t:1", "handle_in:room:*:shout:ok"]);
  client.close();
});

test("metrics count connections, channels, messages, fan-out, presence, errors and rate limits", async () => {
  const metrics = createMetrics({ presence });
  const server = await pool.start({ telemetry: metrics.telemetry, messageRate: { perSecond: 1, burst: 3 } });
  metrics.observe(server.endpoint);
  const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(`${server.websocketUrl}?vsn=2.0.0`)));
  for (const client of clients) {
    client.send(["1", "1", "room:m", "phx_join", {}]);
    await client.reply("1");
  }
  clients[0]!.send(["1", "2", "room:m", "shout", {}]);
  await clients[0]!.reply("2");
  clients[1]!.send(["1", "3", "room:m", "crash", {}]);
  await clients[1]!.next((f) => f[3] === "phx_error");
  for (let i = 0; i < 4; i++) clients[2]!.send(["1", `r${i}`, "room:m", "shout", {}]);
  await clients[2]!.reply("r3");
  const text = await metrics.text();
  assert.equal(value(text, 'cinder_connections{transport="websocket"}'), 3);
  assert.equal(value(text, 'cinder_channels_joined{pattern="room:*"}'), 2, "three joined, one crashed");
  assert.equal(value(text, 'cinder_joins_total{pattern="room:*",status="ok"}'), 3);
  assert.ok(value(text, 'cinder_messages_in_total{transport="websocket"}') >= 9);
  assert.ok(value(text, 'cinder_messages_out_total{transport="websocket"}') >= 9);
  assert.ok(value(text, "cinder_broadcast_deliveries_total") >= 3, "one shout reached three subscribers");
  assert.equal(value(text, 'cinder_errors_total{kind="channel_crash"}'), 1);
  assert.ok(value(text, 'cinder_rate_limited_total{what="message"}') >= 1);
  assert.equal(value(text, 'cinder_presence_members{pattern="room:*"}'), 2);
  assert.match(text, /cinder_process_cpu_user_seconds_total/);
  for (const client of clients) client.close();
});
