/**
 * Retro chat on a stream topic, in the browser: a page cut off while more messages are sent
 * than the join reply's last 50 gets every one of them after the reconnect, once each and in
 * order (the stream's replay; without history it would keep a hole); after a server restart
 * (history lost) the page starts again from the stored last 50, with no duplicate, and the
 * earlier ones load on scroll.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { Client } from "../support/app.js";
import { CHROMIUM, eventually, skipWithoutChromium, startHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

/** The bodies of the page's delivered messages, in the list's order. */
const bodies = (page: Page): Promise<string[]> =>
  page.locator("#messages .message[data-id] .message-body").allTextContents();

const connection = (page: Page): Promise<string> => page.evaluate<string>("document.body.dataset.connection ?? ''");

test("retro chat: a page cut off while 60 messages are sent gets each once, in order; after a restart no duplicates", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const room = "stream-retro";
  const topic = `room:${room}`;

  // The page's WebSocket goes through a route, so the test can keep it from reconnecting.
  let blocked = false;
  await alice.page.routeWebSocket(/\/socket\/websocket/, (ws) => {
    if (blocked) ws.close({ reason: "cut off by the test" });
    else ws.connectToServer();
  });
  await alice.page.goto(`${harness.url}/retro/${room}`);
  await eventually(async () => (await connection(alice.page)) === "online", 10_000, "alice online");

  // bob talks from a phoenix.js client (a real socket, the same channel)
  const signUp = await fetch(`${harness.url}/api/users`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "bob", password: "correct horse" }),
  });
  const { token } = await signUp.json() as { token: string };
  const bob = new Client(`${harness.url.replace("http", "ws")}/socket`, token);
  t.after(() => bob.close());
  const say = async (body: string): Promise<void> => {
    const joined = bobChannel ?? (bobChannel = (await bob.join(topic)).channel);
    const answer = await bob.call(joined, "message:new", { body });
    assert.equal(answer.status, "ok", `${body}: ${JSON.stringify(answer.response)}`);
  };
  let bobChannel: Awaited<ReturnType<Client["join"]>>["channel"] | undefined;
  const sent: string[] = [];
  for (let i = 1; i <= 3; i += 1) { sent.push(`before ${i}`); await say(`before ${i}`); }
  await eventually(async () => (await bodies(alice.page)).length === 3, 10_000, "the first three on alice's page");

  // cut off: her socket is closed and cannot come back while bob sends 60 more
  blocked = true;
  await harness.app.disconnectUser(await alice.id());
  await eventually(async () => (await connection(alice.page)) === "disconnected", 10_000, "alice cut off");
  for (let i = 1; i <= 60; i += 1) { sent.push(`away ${i}`); await say(`away ${i}`); }
  blocked = false;
  await eventually(async () => (await connection(alice.page)) === "online", 20_000, "alice back");
  await eventually(async () => (await bodies(alice.page)).length >= sent.length, 10_000, `${sent.length} messages on alice's page`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(await bodies(alice.page), sent, "every message once, in order, no hole");
  assert.equal(await alice.page.locator("#messages .message.pending, #messages .message.failed").count(), 0);
  await harness.screenshot(alice.page, "retro-chat-after-blip");

  // a restart loses the (in-memory) history: the rejoin cannot recover, and the page starts again
  // from the stored last 50 — no duplicate, no hole — and the earlier ones load on scroll
  await harness.restart();
  await eventually(async () => (await connection(alice.page)) === "online", 30_000, "alice back after the restart");
  await eventually(async () => bobChannel?.state === "joined", 30_000, "bob's channel rejoined after the restart");
  for (let i = 1; i <= 2; i += 1) { sent.push(`after restart ${i}`); await say(`after restart ${i}`); }
  await eventually(async () => (await bodies(alice.page)).at(-1) === "after restart 2", 10_000, "the newest after the restart");
  const shown = await bodies(alice.page);
  assert.equal(new Set(shown).size, shown.length, "no duplicates after the restart");
  assert.deepEqual(shown, sent.slice(-shown.length), "the newest, in order, without a hole");
  // she scrolls up with the mouse wheel until the top: reaching it loads the earlier page (the
  // "Load earlier" button sits at that top, so scrolling to it loads before any click could land)
  await alice.page.locator("#messages").hover();
  await eventually(async () => {
    if ((await bodies(alice.page)).length === sent.length) return true;
    await alice.page.mouse.wheel(0, -10_000);
    return false;
  }, 10_000, "every message after loading earlier ones");
  assert.ok(await alice.page.locator("#load-earlier").isHidden(), "nothing earlier to load");
  assert.deepEqual(await bodies(alice.page), sent);
  harness.assertNoPageErrors();
});
