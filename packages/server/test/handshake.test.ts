/** The WebSocket handshake: vsn negotiation, connect/id hooks, refusals, origins, authToken. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { defineChannel, defineSocket, ok, refuse, type ConnectInfo, type ConnectParams } from "../src/index.js";
import { serverPool } from "./support/server.js";
import { RawClient } from "./support/raw-client.js";

const Room = defineChannel({ join: () => ok() });
const seen: Array<{ params: ConnectParams; info: ConnectInfo }> = [];

const socket = defineSocket<{ user: string }>({
  connect(params, info) {
    seen.push({ params, info });
    if (params.token === "slow") return refuse(429, "rate limited");
    if (params.token === "bad") return false;
    if (params.token === "throw") throw new Error("boom");
    return { user: typeof params.user === "string" ? params.user : "anon" };
  },
  id(s) {
    return s.assigns.user === "badid" ? (42 as unknown as string) : `user:${s.assigns.user}`;
  },
  channels: { "room:*": Room },
});

const pool = serverPool({ socket });
const start = pool.start;
after(() => pool.closeAll());

async function status(url: string, options: Parameters<typeof RawClient.connect>[1] = {}): Promise<number> {
  try {
    const client = await RawClient.connect(url, options);
    client.close();
    return 101;
  } catch (error) {
    return (error as { status?: number }).status ?? -1;
  }
}

test("1: connect params (nested, last duplicate wins) reach connect", async () => {
  const server = await start();
  const client = await RawClient.connect(`${server.websocketUrl}?user=ann&a[b]=1&token=x&token=y&vsn=2.0.0`);
  client.close();
  const last = seen.at(-1)!;
  assert.equal(last.params.user, "ann");
  assert.equal(last.params.token, "y");
  assert.deepEqual({ ...(last.params.a as ConnectParams) }, { b: "1" });
  assert.equal(last.info.transport, "websocket");
  assert.equal(last.info.peer.address, "127.0.0.1");
});

test("2/3: refusals answer before the upgrade with 403 or the chosen status", async () => {
  const server = await start();
  assert.equal(await status(`${server.websocketUrl}?token=bad&vsn=2.0.0`), 403);
  assert.equal(await status(`${server.websocketUrl}?token=throw&vsn=2.0.0`), 403);
  assert.equal(await status(`${server.websocketUrl}?token=slow&vsn=2.0.0`), 429);
  assert.equal(await status(`${server.websocketUrl}?user=badid&vsn=2.0.0`), 403, "an id that is not a string refuses");
  assert.equal(await status(`${server.websocketUrl}?vsn=2.0.0`), 101);
});

test("3: a refusal's reason is the response body", async () => {
  const server = await start();
  await assert.rejects(RawClient.connect(`${server.websocketUrl}?token=slow&vsn=2.0.0`),
    (error: { status: number; body: string }) => error.status === 429 && error.body === "rate limited");
});

test("4: vsn 3.0.0 and abc are refused with 403; 1.x and 2.x are accepted", async () => {
  const server = await start();
  assert.equal(await status(`${server.websocketUrl}?vsn=3.0.0`), 403);
  assert.equal(await status(`${server.websocketUrl}?vsn=abc`), 403);
  assert.equal(await status(`${server.websocketUrl}?vsn=2.1.0`), 101);
  assert.equal(await status(`${server.websocketUrl}`), 101);
});

test("6: an origin allowlist refuses other origins with 403 and allows clients without Origin", async () => {
  const server = await start({ checkOrigin: ["https://good.example", "//*.trusted.example"] });
  const url = `${server.websocketUrl}?vsn=2.0.0`;
  assert.equal(await status(url, { headers: { origin: "https://evil.example" } }), 403);
  assert.equal(await status(url, { headers: { origin: "http://good.example" } }), 403, "scheme must match");
  assert.equal(await status(url, { headers: { origin: "https://good.example" } }), 101);
  assert.equal(await status(url, { headers: { origin: "https://a.b.trusted.example" } }), 101);
  assert.equal(await status(url, { headers: { origin: "https://trusted.example" } }), 101);
  assert.equal(await status(url), 101, "no Origin header: a non-browser client");
});

test("6: checkOrigin true (the default) requires the origin's host to equal Host", async () => {
  const server = await start({ checkOrigin: true });
  const url = `${server.websocketUrl}?vsn=2.0.0`;
  assert.equal(await status(url, { headers: { origin: "http://127.0.0.1:1234" } }), 101);
  assert.equal(await status(url, { headers: { origin: "http://localhost.evil.example" } }), 403);
  assert.equal(await status(url, { headers: { origin: "not a url" } }), 403);
});

test("7: the authToken subprotocol is decoded into connect info and answered with 'phoenix'", async () => {
  const server = await start();
  const token = "s3cret";
  const encoded = Buffer.from(token).toString("base64").replace(/=/g, "");
  const client = await RawClient.connect(`${server.websocketUrl}?vsn=2.0.0&user=tok`,
    { protocols: ["phoenix", `base64url.bearer.phx.${encoded}`] });
  assert.equal(client.ws.protocol, "phoenix");
  assert.equal(seen.at(-1)!.info.authToken, "s3cret");
  client.close();
  assert.equal(await status(`${server.websocketUrl}?vsn=2.0.0`, { protocols: ["graphql-ws"] }), 403,
    "subprotocols offered without 'phoenix' are refused");
});

test("plain HTTP on the websocket path gets 400; other upgrade paths get 404", async () => {
  const server = await start();
  const response = await fetch(`http://127.0.0.1:${server.port}/socket/websocket`);
  assert.equal(response.status, 400);
  assert.equal(await status(`ws://127.0.0.1:${server.port}/elsewhere`), 404);
  const other = await fetch(`http://127.0.0.1:${server.port}/other`);
  assert.equal(other.status, 404, "other paths reach the server's own handler");
});
