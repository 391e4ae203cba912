/**
 * Retro rooms in the browser: who is online through reloads (the server's leave grace,
 * PRESENCE_LEAVE_GRACE_MS, is 2.5 s here). Bob reloads his page: alice's "Here now" count never
 * dips (sampled in the page every 10 ms), bob stays listed, and no "bob left" / "bob joined"
 * notice appears. Carol arrives: "carol joined". Bob closes his page: after the grace alice
 * sees "bob left" and the count drops, once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

const GRACE = 2_500;
let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness({ presenceLeaveGraceMs: GRACE }); });
after(async () => { await h?.close(); });

test("retro room: a reload keeps the count and makes no notice; a newcomer is 'joined'; a closed page is 'left' after the grace", { timeout: 60_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const roomUrl = `${harness.url}/retro/standup-7`;
  await alice.page.goto(roomUrl);
  await bob.page.goto(roomUrl);
  await textOf(alice.page.locator("#presence-count"), "2");
  await alice.page.locator('#presence [data-user="bob"]').waitFor();
  await textOf(alice.page.locator("#presence-notices"), "bob joined");
  const notices = async (): Promise<string[]> => (await alice.page.locator("#presence-notices li").allTextContents()).map((s) => s.replace(/\s+\d{2}:\d{2}.*$/, "").trim());
  const before = await notices();

  // alice's page samples its own count and bob's row every 10 ms
  await alice.page.evaluate(`window.__low = Infinity; window.__bobMissing = 0; window.__sampler = setInterval(() => {
    window.__low = Math.min(window.__low, Number(document.getElementById("presence-count").textContent));
    if (!document.querySelector('#presence [data-user="bob"]')) window.__bobMissing += 1;
  }, 10);`);
  const reloadAt = Date.now();
  await bob.page.reload();
  await bob.page.locator('#presence [data-user="bob"]').waitFor();
  t.diagnostic(`bob's reloaded page listed him ${Date.now() - reloadAt} ms after the reload began`);
  await alice.page.waitForTimeout(GRACE + 700);
  t.diagnostic(`notices: ${JSON.stringify(await notices())}; bob missing in ${String(await alice.page.evaluate("window.__bobMissing"))} samples`);
  assert.equal(await alice.page.evaluate("window.__low"), 2, "alice's count never dipped while bob reloaded");
  assert.equal(await alice.page.evaluate("window.__bobMissing"), 0, "bob stayed listed");
  assert.deepEqual(await notices(), before, "no 'left' or 'joined' notice for a reload");
  await countOf(alice.page.locator('#presence [data-user="bob"] [data-away]'), 0);

  const carol = await harness.signUp("carol");
  await carol.page.goto(roomUrl);
  await textOf(alice.page.locator("#presence-notices li").first(), "carol joined");
  await textOf(alice.page.locator("#presence-count"), "3");
  await alice.page.evaluate("window.__low = Infinity");

  const closedAt = Date.now();
  await bob.page.close();
  await textOf(alice.page.locator('#presence [data-user="bob"]'), "reconnecting…");
  await textOf(alice.page.locator("#presence-notices li").first(), "bob left", GRACE + 5_000);
  const after = Date.now() - closedAt;
  t.diagnostic(`"bob left" ${after} ms after his page closed (grace ${GRACE} ms)`);
  assert.ok(after >= GRACE - 100, `not before the grace (${after} ms)`);
  await textOf(alice.page.locator("#presence-count"), "2");
  await countOf(alice.page.locator('#presence [data-user="bob"]'), 0);
  assert.equal((await notices()).filter((n) => n === "bob left").length, 1, "one 'left' notice");
  assert.equal(await alice.page.evaluate("window.__low"), 2, "the count dropped once, from 3 to 2");
  await harness.screenshot(alice.page, "retro-online");
  harness.assertNoPageErrors();
});
