/**
 * Retro rooms in the browser, two users: presence both ways (since-when, a tab count for a
 * user with two tabs), messages both ways with local-time timestamps, Enter sends, empty
 * messages are refused with a message, the list keeps scrolled to the newest, user text is
 * rendered as text, and a rejoin after a lost connection shows no duplicates.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";
import { existsSync } from "node:fs";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("retro room: presence, messages both ways, local times, Enter sends, scrolled to the newest, safe text, no duplicates after a rejoin", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const room = "sprint-42";
  const roomUrl = `${harness.url}/retro/${room}`;

  await alice.page.goto(roomUrl);
  await bob.page.goto(roomUrl);
  await textOf(alice.page.locator("h1"), room);

  // who is online overall, in the header
  await textOf(alice.page.locator("#online"), /^2 users online, 2 connections$/);

  // presence both ways, with since-when (local time)
  const bobRow = alice.page.locator('#presence [data-user="bob"]');
  await bobRow.waitFor();
  await textOf(bobRow, /online since \d{2}:\d{2}/);
  await bob.page.locator('#presence [data-user="alice"]').waitFor();
  await textOf(bob.page.locator('#presence [data-user="bob"]'), "(you)");
  await textOf(alice.page.locator("#presence-count"), "2");

  // a message from alice, sent with Enter, reaches bob as text (no HTML injection)
  const input = alice.page.locator("#message-input");
  const hostile = `Shipped the <b>release</b> <img src=x onerror="window.__pwned=1">`;
  await input.fill(hostile);
  await input.press("Enter");
  const last = bob.page.locator("#messages .message").last();
  await textOf(last, hostile);
  await textOf(last.locator(".message-user"), "alice");
  assert.equal(await bob.page.locator("#messages b, #messages img").count(), 0, "the message's markup is text");
  assert.equal(await bob.page.evaluate("window.__pwned"), undefined);
  assert.equal(await input.inputValue(), "", "the composer is cleared after sending");

  // the timestamp is the local time (the context runs in Europe/Paris, en-GB)
  const datetime = await last.locator("time").getAttribute("datetime");
  assert.ok(datetime !== null);
  const local = new Date(datetime).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "Europe/Paris" });
  assert.equal((await last.locator("time").textContent())?.trim(), local);

  // and back: bob answers, alice sees it
  await bob.page.locator("#message-input").fill("Agreed — the demo went smoothly.");
  await bob.page.locator("#message-input").press("Enter");
  await textOf(alice.page.locator("#messages .message").last(), "Agreed — the demo went smoothly.");

  // an empty message is refused with a message next to the composer
  await input.fill("   ");
  await input.press("Enter");
  await textOf(alice.page.locator(".composer-wrap .form-status.error"), "Type a message first.");

  for (const [who, text] of [[alice, "Retro action: pair on the flaky deploy script."], [bob, "+1, and let's timebox standups to 10 minutes."]] as const) {
    await who.page.locator("#message-input").fill(text);
    await who.page.locator("#message-input").press("Enter");
  }
  await countOf(alice.page.locator("#messages .message"), 4);

  // a second tab of bob's: alice sees "2 tabs"
  const bobTab = await bob.newTab();
  await bobTab.goto(roomUrl);
  await textOf(alice.page.locator('#presence [data-user="bob"] .badge'), "2 tabs");
  await harness.screenshot(alice.page, "retro");
  await bobTab.close();
  await countOf(alice.page.locator('#presence [data-user="bob"] .badge'), 0);

  // many messages: the list keeps scrolled to the newest
  for (let i = 1; i <= 25; i++) {
    await input.fill(`Note ${i} of 25`);
    await input.press("Enter");
  }
  await textOf(bob.page.locator("#messages .message").last(), "Note 25 of 25");
  const atBottom = `(() => { const list = document.getElementById("messages");
    return list.scrollHeight > list.clientHeight && list.scrollTop + list.clientHeight >= list.scrollHeight - 2; })()`;
  assert.ok(await eventually(() => bob.page.evaluate<boolean>(atBottom), 3000, "bob's list scrolled to the newest"));
  assert.ok(await eventually(() => alice.page.evaluate<boolean>(atBottom), 3000, "alice's list scrolled to the newest"));

  // a lost connection: bob's page rejoins and gets the last messages again, without duplicates
  const shown = await bob.page.locator("#messages .message").count();
  await bob.page.evaluate(`window.__states = []; new MutationObserver(() => window.__states.push(document.body.dataset.connection))
    .observe(document.body, { attributes: true, attributeFilter: ["data-connection"] });`);
  await harness.app.disconnectUser(await bob.id());
  await eventually(async () => {
    const states = await bob.page.evaluate<string[]>("window.__states");
    return states.includes("disconnected") && states.at(-1) === "online";
  }, 10_000, "bob's page to lose the connection and reconnect");
  await bob.page.locator('#presence [data-user="bob"]').waitFor();
  await textOf(alice.page.locator("#online"), /^2 users online, 2 connections$/);
  await bob.page.locator("#message-input").fill("Back again.");
  await bob.page.locator("#message-input").press("Enter");
  await textOf(alice.page.locator("#messages .message").last(), "Back again.");
  await countOf(bob.page.locator("#messages .message"), shown + 1);
  const ids = await bob.page.evaluate<string[]>(`[...document.querySelectorAll("#messages .message")].map((item) => item.dataset.id)`);
  assert.equal(new Set(ids).size, ids.length, "no message is shown twice");

  harness.assertNoPageErrors();
});
