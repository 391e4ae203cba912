/**
 * The pointing party with three users (alice drives, bob, carol), each in their own browser
 * context: every round ends the same for everyone. The last voter leaving brings the tally; a
 * reload or a late join after the reveal shows the result (no reopened voting); the driver
 * leaving hands the role over; cards show their place in the backlog; a card added after the
 * party is over reaches everyone live.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, countOf, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const vote = (page: Page, points: number): Promise<void> => page.locator(`.vote[data-points="${points}"]`).click();

test("pointing party, three users: leave brings the tally, the reveal is final after reload and late join, driver hand-over, card places, live new card", { timeout: 90_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const carol = await harness.signUp("carol");
  // Another party first, so this party's card ids (4, 5, 6) differ from their places (1, 2, 3).
  const other = await fetch(`${harness.url}/api/parties/other/cards`, { headers: { authorization: `Bearer ${await alice.token()}` } });
  assert.equal(other.status, 200);
  const party = `${harness.url}/party/three`;
  for (const user of [alice, bob, carol]) await user.page.goto(party);
  for (const user of [alice, bob, carol]) await countOf(user.page.locator("#participants .person"), 3);

  await alice.page.locator("#start:not([disabled])").click();
  for (const user of [alice, bob, carol]) {
    await textOf(user.page.locator("#card-title-text"), "Sign-up form");
    await textOf(user.page.locator("#card-place"), /^Card 1$/);
  }
  assert.equal(await bob.page.locator("#start").count(), 0, "no start button for a non-driver while a card is on the table");

  // alice and bob vote; carol, who has not, leaves: the tally comes for everyone left
  await vote(alice.page, 5);
  await vote(bob.page, 5);
  await textOf(alice.page.locator("#result"), "2 of 3 votes in");
  await carol.page.close();
  for (const user of [alice, bob]) await textOf(user.page.locator("#result.winner"), /Winner\s*5\s*points/);

  // bob reloads after the reveal: the result, not reopened voting
  await bob.page.reload();
  await textOf(bob.page.locator("#result.winner"), /Winner\s*5\s*points/);
  assert.equal(await bob.page.locator('.vote[data-points="3"]').isDisabled(), true, "no voting on a revealed card");
  // carol joins late: the result too, and the winner stays for everyone
  carol.page = await carol.newTab();
  await carol.page.goto(party);
  await textOf(carol.page.locator("#result.winner"), /Winner\s*5\s*points/);
  assert.equal(await carol.page.locator('.vote[data-points="3"]').isDisabled(), true);
  await textOf(alice.page.locator("#result.winner"), /Winner\s*5\s*points/);

  // alice deals the next card, then leaves: the role passes to bob (first of the others by name)
  await alice.page.locator("#next-card").click();
  for (const user of [bob, carol]) await textOf(user.page.locator("#card-place"), /^Card 2$/);
  await alice.page.close();
  await textOf(bob.page.locator(".driver"), "You are driving");
  await textOf(carol.page.locator(".driver"), "bob is driving");
  await bob.page.locator("#next-card").click();
  for (const user of [bob, carol]) await textOf(user.page.locator("#card-place"), /^Card 3$/);
  await bob.page.locator("#next-card").click();
  for (const user of [bob, carol]) await textOf(user.page.locator("#party-over"), "Party over");
  await textOf(bob.page.locator("#party-over #start"), "Point the 2 new cards");

  // carol adds a card after the party is over: bob sees it without reloading
  await carol.page.locator(".add-card summary").click();
  await carol.page.getByLabel("Title").fill("Dark mode");
  await carol.page.locator("#add-card").getByRole("button", { name: "Add card" }).click();
  await countOf(bob.page.locator("#backlog .backlog-item"), 4);
  await textOf(bob.page.locator("#party-over #start"), "Point the 3 new cards");
  await harness.screenshot(bob.page, "party-three");
  harness.assertNoPageErrors();
});
