/**
 * The pointing party survives a server restart mid-round, three users in their own browser
 * contexts: alice drives with a timer running, alice and bob have voted, carol has not; the
 * server stops and starts again on the same data; every page reconnects by itself and shows
 * the round as it was (the card, the driver, who has voted, the timer counting to the same
 * deadline); carol's vote then brings the winner, with the average and spread, to everyone.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const vote = (page: Page, points: number | string): Promise<void> => page.locator(`.vote[data-points="${points}"]`).click();
const voteState = (page: Page, user: string) => page.locator(`#participants [data-user="${user}"] .vote-state`);
/** The seconds left on a page's timer. */
const secondsLeft = async (page: Page): Promise<number> => {
  const text = (await page.locator("#timer").textContent()) ?? "";
  const match = /(\d+):(\d\d) left/.exec(text);
  assert.ok(match !== null, `a running timer (got "${text}")`);
  return Number(match[1]) * 60 + Number(match[2]);
};

test("pointing party: a server restart mid-round brings back the card, driver, votes and timer for everyone", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const carol = await harness.signUp("carol");
  const users = [alice, bob, carol];
  for (const user of users) await user.page.goto(`${harness.url}/party/restart`);
  for (const user of users) await countOf(user.page.locator("#participants .person"), 3);

  await alice.page.locator("#start:not([disabled])").click();
  for (const user of users) await textOf(user.page.locator("#card-place"), /^Card 1$/);
  await alice.page.locator('[data-timer="120"]').click();
  for (const user of users) await textOf(user.page.locator("#timer"), /\d:\d\d left/);
  await vote(alice.page, 5);
  await vote(bob.page, 3);
  for (const user of users) await textOf(user.page.locator("#result"), "2 of 3 votes in");
  const before = await secondsLeft(carol.page);

  await harness.restart();

  // Every page reconnects on its own; the round is as it was.
  for (const user of users) {
    await textOf(user.page.locator("#card-title-text"), "Sign-up form", 20_000);
    await textOf(user.page.locator("#result"), "2 of 3 votes in", 20_000);
    await textOf(voteState(user.page, "alice"), "voted");
    await textOf(voteState(user.page, "bob"), "voted");
    await textOf(voteState(user.page, "carol"), "thinking");
    await textOf(user.page.locator("#timer"), /\d:\d\d left/);
  }
  await textOf(alice.page.locator(".driver"), "You are driving");
  await textOf(bob.page.locator(".driver"), "alice is driving");
  assert.equal(await alice.page.locator('.vote[data-points="5"]').getAttribute("aria-pressed"), "true", "alice's own vote is shown as hers");
  const after = await secondsLeft(bob.page);
  assert.ok(after <= before && after >= before - 40, `the same deadline (${before} s left before, ${after} s after)`);
  await eventually(async () => Math.abs((await secondsLeft(alice.page)) - (await secondsLeft(carol.page))) <= 1, 5000, "every page counts down to the same instant");
  await harness.screenshot(bob.page, "party-after-restart");

  await vote(carol.page, 5);
  for (const user of users) {
    await textOf(user.page.locator("#result.winner"), /Winner\s*5\s*points/);
    await textOf(user.page.locator("#result-stats"), "average 4.33 · spread 3–5");
    await textOf(voteState(user.page, "bob"), "3");
  }
  assert.equal(await carol.page.locator("#timer").isHidden(), true, "the timer is gone once there is a winner");
  harness.assertNoPageErrors();
});
