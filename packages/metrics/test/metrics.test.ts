/**
 * `@cinder/metrics` after real traffic: official `phoenix` clients over WebSocket and raw
 * long-poll requests against a real endpoint; the metrics (scraped over HTTP at `/metrics`) count
 * connections by transport, connection attempts, channels by pattern, joins, messages, fan-out,
 * presence members, errors and rate-limit refusals — only for the endpoints they observe.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import {
  attach, createPresence, defineChannel, defineSocket, ok, PubSub, refuse, silentLogger,
  type ChannelSocket, type Endpoint, type EndpointOptions,
} from "@cinder/server";
import { createMetrics, type Metrics } from "../src/index.js";

const pubsub = new PubSub();
const presence = createPresence({ pubsub, logger: silentLogger, diffWindowMs: 0 });
const Room = defineChannel({
  join(_topic: string, _params: unknown, socket: ChannelSocket) {
    presence.track(socket, socket.ownerId, {});
    return ok();
  },
  handleIn(event: string, payload: unknown, socket: ChannelSocket) {
    if (event === "crash") throw new Error("boom");
    socket.broadcast("shout", payload);
    return ok();
  },
});
const socket = defineSocket({
  connect: (params) => (params.user === "refused" ? refuse(403) : {}),
  channels: { "room:*": Room },
});
/** The socket of an endpoint the metrics do not observe (no presence, so members are not mixed). */
const otherSocket = defineSocket({ channels: { "room:*": defineChannel({ join: () => ok() }) } });

interface Running { server: Server; endpoint: Endpoint; port: number; close(): Promise<void> }
const running: Running[] = [];
const sockets: Socket[] = [];
after(async () => {
  for (const client of sockets) client.disconnect();
  await presence.close();
  await Promise.all(running.map((r) => r.close()));
});

/** Starts an HTTP server with an endpoint, `/metrics` answered by `metrics` when given. */
async function start(options: Partial<EndpointOptions>, metrics?: Metrics): Promise<Running> {
  const server = createServer((request, response) => {
    if (metrics !== undefined && request.url === "/metrics") metrics.handler(request, response);
    else response.writeHead(404).end();
  });
  const endpoint = attach(server, { socket, logger: silentLogger, checkOrigin: false, longpoll: true, ...options });
  metrics?.observe(endpoint);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const handle: Running = {
    server, endpoint, port,
    async close() {
      await endpoint.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  running.push(handle);
  return handle;
}

/** A connected phoenix.js client (no automatic rejoin during the test). */
async function phoenix(port: number): Promise<Socket> {
  const client = new Socket(`ws://127.0.0.1:${port}/socket`, { transport: WebSocket, rejoinAfterMs: () => 60_000, reconnectAfterMs: () => 60_000 });
  sockets.push(client);
  const opened = new Promise<void>((resolve) => client.onOpen(resolve));
  client.connect();
  await opened;
  return client;
}

/** Joins `topic`; resolves once the join is answered ok. */
function join(client: Socket, topic: string): Promise<Channel> {
  const channel = client.channel(topic, {});
  return new Promise((resolve, reject) => {
    channel.join().receive("ok", () => resolve(channel)).receive("error", reject).receive("timeout", () => reject(new Error("join timeout")));
  });
}

/** Pushes and resolves with the reply status ("timeout" when none came). */
function push(channel: Channel, event: string): Promise<string> {
  return new Promise((resolve) => {
    const sent = channel.push(event, {}, 2000);
    for (const status of ["ok", "error", "timeout"]) sent.receive(status, () => resolve(status));
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The value of one sample (name with labels, exactly as printed) in a Prometheus scrape. */
function value(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.split(" ")[0] === sample);
  if (line === undefined) throw new Error(`no ${sample} in\n${text}`);
  return Number(line.split(" ").at(-1));
}

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  return response.text();
}

test("after real WebSocket and long-poll traffic, /metrics counts connections, channels, messages, fan-out, presence, errors and rate limits", async () => {
  const metrics = createMetrics({ presence });
  const observed = await start({ pubsub, messageRate: { perSecond: 1, burst: 3 } }, metrics);
  // Traffic on an endpoint the metrics do not observe is not counted.
  const other = await start({ pubsub: new PubSub(), socket: otherSocket });
  const stranger = await phoenix(other.port);
  await join(stranger, "room:elsewhere");

  const clients = await Promise.all([1, 2, 3].map(() => phoenix(observed.port)));
  const channels = await Promise.all(clients.map((client) => join(client, "room:m")));
  assert.equal(await push(channels[0]!, "shout"), "ok");
  const errored = new Promise<void>((resolve) => channels[1]!.onError(() => resolve()));
  void push(channels[1]!, "crash");
  await errored;
  const statuses = await Promise.all([0, 1, 2, 3].map(() => push(channels[2]!, "shout")));
  assert.ok(statuses.includes("error"), `a push over the rate limit is refused: ${statuses.join(",")}`);
  const lp = `http://127.0.0.1:${observed.port}/socket/longpoll?vsn=2.0.0`;
  assert.equal((await (await fetch(`${lp}&user=refused`)).json() as { status: number }).status, 403);
  assert.equal((await (await fetch(lp)).json() as { status: number }).status, 410);
  await until(() => presence.countConnections("room:m") === 2, "the crashed channel's presence to leave");

  const text = await scrape(observed.port);
  assert.equal(value(text, 'cinder_connections{transport="websocket"}'), 3);
  assert.equal(value(text, 'cinder_connections{transport="longpoll"}'), 1);
  assert.equal(value(text, 'cinder_connect_attempts_total{transport="websocket",result="accepted"}'), 3);
  assert.equal(value(text, 'cinder_connect_attempts_total{transport="longpoll",result="refused"}'), 1);
  assert.equal(value(text, 'cinder_channels_joined{pattern="room:*"}'), 2, "three joined, one crashed");
  assert.equal(value(text, 'cinder_joins_total{pattern="room:*",status="ok"}'), 3);
  assert.ok(value(text, 'cinder_messages_in_total{transport="websocket"}') >= 3 + 6, "three joins and six pushes");
  assert.ok(value(text, 'cinder_messages_out_total{transport="websocket"}') >= 3 + 6, "three join replies and six push replies");
  assert.ok(value(text, "cinder_broadcast_deliveries_total") >= 3, "one shout reached three subscribers");
  assert.equal(value(text, 'cinder_errors_total{kind="channel_crash"}'), 1);
  assert.ok(value(text, 'cinder_rate_limited_total{what="message"}') >= 1);
  assert.equal(value(text, 'cinder_presence_members{pattern="room:*"}'), 2);
  assert.ok(value(text, 'cinder_handle_in_duration_seconds_count{pattern="room:*"}') >= 2);
  assert.match(text, /cinder_process_cpu_user_seconds_total/);

  // Clients that leave are no longer counted as connected.
  channels[1]!.leave(); // the errored channel: no rejoin pending
  for (const client of clients) client.disconnect();
  await until(() => observed.endpoint.connectionCount === 1, "the WebSocket clients to close");
  const later = await scrape(observed.port);
  assert.equal(value(later, 'cinder_connections{transport="websocket"}'), 0);
  assert.equal(value(later, 'cinder_channels_joined{pattern="room:*"}'), 0);
  metrics.close();
});

test("close() unsubscribes: later traffic is not counted", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const observed = await start({ pubsub: new PubSub() }, metrics);
  const first = await phoenix(observed.port);
  await join(first, "room:c");
  metrics.close();
  const second = await phoenix(observed.port);
  await join(second, "room:c");
  const text = await metrics.text();
  assert.equal(value(text, 'cinder_connections{transport="websocket"}'), 1);
  assert.equal(value(text, 'cinder_joins_total{pattern="room:*",status="ok"}'), 1);
});

test("cinder_event_loop_utilization is the busy share of the loop since the previous scrape; a bad monitoring precision is refused", async () => {
  const metrics = createMetrics({ eventLoopMonitoringPrecision: 50 });
  try {
    await metrics.text();
    const until = Date.now() + 300;
    while (Date.now() < until) { /* the loop is busy for 300 ms */ }
    const busy = value(await metrics.text(), "cinder_event_loop_utilization");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const idle = value(await metrics.text(), "cinder_event_loop_utilization");
    assert.ok(busy > 0.8, `busy for 300 ms of ~300: ${busy}`);
    assert.ok(idle < 0.5, `idle for 300 ms: ${idle}`);
    assert.match(await metrics.text(), /cinder_nodejs_eventloop_lag_p99_seconds/, "the default metrics' delay monitor runs at the given precision");
  } finally {
    metrics.close();
  }
  for (const bad of [0, 2.5, Number.NaN]) {
    assert.throws(() => createMetrics({ eventLoopMonitoringPrecision: bad }), /eventLoopMonitoringPrecision must be a whole number of ms/);
  }
});
