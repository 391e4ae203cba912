/**
 * Test support: real Cinder nodes (the conformance server) as child processes joined by Redis,
 * and clients on them with the official `phoenix` client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Presence, Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import { Redis } from "ioredis";

/** The part of a WebSocket close event the tests read. */
interface CloseEvent {
  code: number;
}

const SERVER = fileURLToPath(new URL("../../../../../apps/conformance/dist/src/server.js", import.meta.url));

/** A running node. */
export interface Node {
  name: string;
  port: number;
  process: ChildProcess;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a conformance server node in the cluster on `redisUrl` / `namespace`. */
export function startNode(name: string, redisUrl: string, namespace: string, env: Record<string, string> = {}): Promise<Node> {
  const child = spawn(process.execPath, [SERVER], {
    env: {
      ...process.env, PORT: "0", LOG_LEVEL: "warn", CINDER_REDIS_URL: redisUrl, CINDER_NODE_NAME: name,
      CINDER_REDIS_NAMESPACE: namespace, CINDER_PRESENCE_BROADCAST_MS: "100", CINDER_PRESENCE_DOWN_MS: "1000", ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`node ${name} did not start: ${output.join("")}`)); }, 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(chunk.toString());
      if (!match) return;
      clearTimeout(timer);
      resolve({
        name, port: Number(match[1]), process: child, output,
        stop(signal: NodeJS.Signals = "SIGTERM") {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          return new Promise((done) => { child.once("exit", () => done()); child.kill(signal); });
        },
      });
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`node ${name} exited (${code}): ${output.join("")}`)); });
  });
}

/** A phoenix.js client on a node, joined to an echo channel and a presence channel. */
export interface Client {
  socket: Socket;
  echo: Channel;
  presence: Presence;
  events: Array<[string, unknown]>;
  /** The `presence_online` / `presence_offline` events received (joins with `{online: true}`), as "online:<key>" / "offline:<key>". */
  online: string[];
  closeCodes: number[];
  keys(): string[];
}

/**
 * Connects `user` to `node` and joins `echo:<room>` and `presence:<room>` (over `transport`,
 * default ws's WebSocket; the presence join with `presenceParams`, e.g. `{online: true}`).
 */
export function connect(node: Pick<Node, "port">, user: string, room: string,
  transport: new (url: string, protocols?: string | string[]) => WebSocket = WebSocket, presenceParams: Record<string, unknown> = {}): Client {
  const socket = new Socket(`ws://127.0.0.1:${node.port}/socket`, { transport, params: { user }, reconnectAfterMs: () => 200 });
  const events: Array<[string, unknown]> = [];
  const closeCodes: number[] = [];
  socket.onClose((event) => closeCodes.push((event as CloseEvent).code));
  socket.connect();
  const echo = socket.channel(`echo:${room}`, {});
  for (const event of ["broadcasted", "pushed"]) echo.on(event, (payload) => events.push([event, payload]));
  echo.join();
  const channel = socket.channel(`presence:${room}`, presenceParams);
  const presence = new Presence(channel);
  const online: string[] = [];
  for (const kind of ["online", "offline"]) channel.on(`presence_${kind}`, (payload) => online.push(`${kind}:${(payload as { key: string }).key}`));
  channel.join();
  return { socket, echo, presence, events, online, closeCodes, keys: () => presence.list((key) => key).sort() };
}

/** Waits until `check` is true; the error at the timeout names `what` (a function is read then, to show the state at the end). */
export async function until(check: () => boolean, timeoutMs: number, what: string | (() => string)): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

/** A push that resolves with its reply status. */
export function call(channel: Channel, event: string, payload: object): Promise<string> {
  return new Promise((resolve) => {
    const push = channel.push(event, payload, 2000);
    for (const status of ["ok", "error", "timeout"]) push.receive(status, () => resolve(status));
  });
}

/** Broadcasts `{n}` for each n in `from..to` through a node's `POST /broadcast` (endpoint.broadcast); throws on a refusal. */
export async function publishNumbers(node: Node, topic: string, from: number, to: number = from): Promise<void> {
  for (let n = from; n <= to; n++) {
    const response = await fetch(`http://127.0.0.1:${node.port}/broadcast`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ topic, event: "n", payload: { n } }),
    });
    if (!response.ok) throw new Error(`broadcast answered ${response.status}`);
  }
}

/**
 * Waits until `count` nodes listen on their node channels (a node announces itself before it
 * has subscribed). `redis` is a single Redis URL, or the URLs of every master of a Redis
 * Cluster (where node channels are shard channels).
 */
export async function subscribed(redis: string | readonly string[], namespace: string, count: number): Promise<void> {
  const clients = (typeof redis === "string" ? [redis] : redis).map((url) => new Redis(url));
  const sharded = typeof redis !== "string";
  try {
    for (let waited = 0; ; waited += 50) {
      let subscribers = 0;
      for (const client of clients) {
        const channels = await client.call("PUBSUB", sharded ? "SHARDCHANNELS" : "CHANNELS", `${namespace}:node:*`) as string[];
        subscribers += channels.length;
      }
      if (subscribers >= count) return;
      if (waited > 10_000) throw new Error(`only ${subscribers} of ${count} nodes subscribed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}
