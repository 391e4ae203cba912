/**
 * Video annotations, two users: a marker on the timeline for every annotation (click: seek),
 * replies, editing and deleting one's own (never another's), and the watcher list showing where
 * each watcher is in the video (from presence metas), marked stale while disconnected, and a
 * note posted while offline posted on reconnect.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const currentTime = "document.querySelector('video').currentTime";

test("video: timeline markers, replies, edit and delete one's own, where each watcher is", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  for (const u of [alice, bob]) {
    await u.page.goto(`${harness.url}/videos/1`);
    await eventually(() => u.page.locator("#annotation-input").isEnabled(), 8000, `${u.name}'s player`);
  }
  await alice.page.evaluate(`${currentTime} = 2`);
  await textOf(alice.page.locator("#annotation-at"), "0:02");
  await alice.page.locator("#annotation-input").fill("Two on the counter");
  await alice.page.locator("#annotation-input").press("Enter");
  await alice.page.evaluate(`${currentTime} = 5`);
  await textOf(alice.page.locator("#annotation-at"), "0:05");
  await alice.page.locator("#annotation-input").fill("Five already");
  await alice.page.locator("#annotation-input").press("Enter");

  // a marker per annotation on bob's timeline, before his playback reaches them; a click seeks there
  await countOf(bob.page.locator("#markers .marker"), 2);
  await bob.page.locator("#markers .marker").last().click();
  await eventually(async () => Math.abs((await bob.page.evaluate<number>(currentTime)) - 5) < 0.01, 5000, "bob seeked to 5 s");

  // where each watcher is: bob sees alice at 0:05 (paused), alice sees bob at 0:05
  await textOf(bob.page.locator('#watchers [data-user="alice"] .watcher-at'), "0:05");
  await textOf(alice.page.locator('#watchers [data-user="bob"] .watcher-at'), "0:05");

  // bob replies to alice's note; it shows under it for both
  const bobNote = bob.page.locator("#annotations .annotation", { hasText: "Two on the counter" });
  await bobNote.locator(".annotation-reply").click();
  await bob.page.locator(`#annotations input[aria-label="Reply"]`).fill("Agreed, two");
  await bob.page.locator(`#annotations input[aria-label="Reply"]`).press("Enter");
  const aliceNote = alice.page.locator("#annotations .annotation", { hasText: "Two on the counter" });
  await textOf(aliceNote.locator(".replies .reply"), "Agreed, two");
  assert.equal(await alice.page.locator("#markers .marker").count(), 2, "replies get no marker of their own");

  // alice may not edit bob's reply; she edits her own note, everyone sees the change
  assert.equal(await aliceNote.locator(".reply .annotation-edit").count(), 0, "no edit on another's reply");
  await aliceNote.locator(".annotation-controls .annotation-edit").first().click();
  await alice.page.locator("#annotations input[aria-label='Edit annotation']").fill("Two on the counter (edited)");
  await alice.page.locator("#annotations input[aria-label='Edit annotation']").press("Enter");
  await textOf(bob.page.locator("#annotations .annotation").first(), "Two on the counter (edited)");
  await harness.screenshot(bob.page, "video-threads");

  // bob deletes his reply; alice deletes her other note: gone for both, markers too
  await bob.page.locator("#annotations .reply .annotation-delete").click();
  await countOf(alice.page.locator("#annotations .reply"), 0);
  await alice.page.locator("#annotations .annotation", { hasText: "Five already" }).locator(".annotation-delete").click();
  await countOf(bob.page.locator("#annotations .annotation"), 1);
  await countOf(bob.page.locator("#markers .marker"), 1);

  // while the server is down the watcher list says it may be out of date; fresh again after the rejoin
  await harness.restart(async () => {
    await eventually(() => bob.page.evaluate<boolean>(`document.body.dataset.connection === "disconnected"`), 10_000, "bob offline");
    assert.ok(await bob.page.locator("#watchers-stale").isVisible(), "the watcher list is marked stale");
    // a note posted while offline waits, and says so
    await bob.page.locator("#annotation-input").fill("Posted while offline");
    await bob.page.locator("#annotation-input").press("Enter");
    await textOf(bob.page.locator("#annotation-form + .form-status, .composer-panel .form-status"), "will be posted when the connection is back");
  });
  await alice.page.locator("#annotations .annotation", { hasText: "Posted while offline" }).waitFor({ state: "attached", timeout: 15_000 });
  await eventually(() => bob.page.locator("#watchers-stale").isHidden(), 15_000, "the watcher list fresh again");
  await bob.page.locator('#watchers [data-user="alice"]').waitFor();
  harness.assertNoPageErrors();
});
