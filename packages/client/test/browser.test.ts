/**
 * The browser build in headless Chromium: a page served by the in-process server imports
 * `/cinder-client.min.js`, connects over the browser's own WebSocket to the relative endpoint
 * "/socket", joins, calls, sends binary, broadcasts to a Node client and syncs presence with it.
 * Skipped (with a message) when /usr/bin/chromium is missing, unless CINDER_REQUIRE_SERVICES=1
 * (then it fails).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import { chromium, type BrowserContext } from "playwright-core";
import { Presence } from "../src/index.js";
import { clientSocket, nextEvent, topic, useCleanup } from "./support/client.js";
import { startServer, waitUntil, within, type TestServer } from "./support/server.js";

/** The Chromium binary (`CINDER_CHROMIUM` overrides it, e.g. to check the skip path). */
const CHROMIUM = process.env.CINDER_CHROMIUM ?? "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
const requireServices = process.env.CINDER_REQUIRE_SERVICES === "1";
/** dist/test/browser.test.js → dist/browser/cinder-client.min.js */
const bundlePath = resolve(dirname(fileURLToPath(import.meta.url)), "../browser/cinder-client.min.js");

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>cinder client</title></head><body>
<script type="module">
import { Socket, Presence } from "/cinder-client.min.js";
const query = new URLSearchParams(location.search);
const room = query.get("room"), lobby = query.get("lobby");
window.__roundTrip = (async () => {
  const socket = new Socket("/socket", { params: { user: "browser-user" } });
  socket.connect();
  const presenceChannel = socket.channel(lobby, { meta: { agent: "chromium" } });
  const presence = new Presence(presenceChannel);
  const synced = new Promise((resolve) => presence.onSync(() => {
    const keys = presence.list((key) => key).sort();
    if (keys.includes("node-user") && keys.includes("browser-user")) resolve(keys);
  }));
  presenceChannel.join();
  const channel = socket.channel(room, { from: "browser" });
  const joinResponse = await channel.joined();
  const reply = await channel.call("ping", { hello: "from the browser" });
  const bin = await channel.call("binary", new Uint8Array([7, 8, 9]).buffer);
  const broadcast = new Promise((resolve) => channel.on("broadcasted", resolve));
  await channel.call("broadcast", { sender: "browser" });
  return {
    transport: socket.conn.constructor.name,
    url: socket.endPointURL(),
    joinResponse,
    reply,
    bin: bin instanceof ArrayBuffer ? Array.from(new Uint8Array(bin)) : String(bin),
    broadcast: await broadcast,
    keys: await synced,
  };
})();
</script></body></html>`;

function serve(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? "/", "http://x").pathname;
  if (path === "/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(PAGE);
  } else if (path === "/cinder-client.min.js") {
    res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(readFileSync(bundlePath));
  } else {
    res.writeHead(404).end();
  }
}

let server: TestServer;
before(async () => { server = await startServer({ handler: serve }); });
after(async () => { await server.close(); });
useCleanup();

interface RoundTrip {
  transport: string;
  url: string;
  joinResponse: unknown;
  reply: unknown;
  bin: number[] | string;
  broadcast: unknown;
  keys: string[];
}

test("browser build in headless Chromium: join, call, binary, broadcast and presence round trip", { timeout: 45_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const missing = `${CHROMIUM} is not installed (apt-get install chromium)`;
    if (requireServices) assert.fail(`${missing}, and CINDER_REQUIRE_SERVICES=1 requires the headless browser test`);
    t.skip(`${missing}: skipping the headless browser test`);
    return;
  }
  assert.ok(existsSync(bundlePath), `the browser build is missing: ${bundlePath} (run \`npm run build:browser -w @cinder/client\`)`);

  const room = topic("room");
  const lobby = topic("presence");
  // a Node client on the same topics
  const node = clientSocket(server.socketUrl, { params: { user: "node-user" } });
  const nodeRoom = node.channel(room);
  const nodeLobby = node.channel(lobby);
  const nodePresence = new Presence(nodeLobby);
  await Promise.all([nodeRoom.joined(), nodeLobby.joined()]);
  const fromBrowser = nextEvent(nodeRoom, "broadcasted", 30_000);

  const userDataDir = mkdtempSync(join(tmpdir(), "cinder-chromium-"));
  let context: BrowserContext | undefined;
  try {
    context = await within(chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 20_000,
    }), 25_000, "Chromium to start");
    const page = context.pages()[0] ?? await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`${server.httpUrl}/?room=${encodeURIComponent(room)}&lobby=${encodeURIComponent(lobby)}`, { timeout: 10_000 });
    const result = await within(page.evaluate("window.__roundTrip") as Promise<RoundTrip>, 15_000,
      `the page's round trip (page errors: ${errors.join("; ") || "none"})`);
    assert.equal(result.transport, "WebSocket", "the browser's own WebSocket");
    assert.match(result.url, new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/socket/websocket\\?user=browser-user&vsn=2\\.0\\.0$`));
    assert.deepEqual(result.joinResponse, { topic: room, params: { from: "browser" } });
    assert.deepEqual(result.reply, { hello: "from the browser" });
    assert.deepEqual(result.bin, [7, 8, 9]);
    assert.deepEqual(result.broadcast, { sender: "browser" });
    assert.deepEqual(result.keys, ["browser-user", "node-user"]);
    assert.deepEqual(await fromBrowser, { sender: "browser" }, "the Node client got the browser's broadcast");
    await waitUntil(() => nodePresence.list((key) => key).includes("browser-user"), 5000, "the Node client sees the browser's presence");
    assert.equal(nodePresence.state["browser-user"]?.metas[0]?.agent, "chromium");
    assert.deepEqual(errors, []);
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(userDataDir, { recursive: true, force: true });
  }
});
