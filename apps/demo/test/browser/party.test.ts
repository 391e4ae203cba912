/**
 * The pointing party in the browser, two users: start (the starter drives), votes shown as
 * "voted" but not their value until the reveal, a winner (stored as the card's estimate), a
 * tie and a re-vote, the driver's next card (others have no such button), and the end of the
 * party with every estimate.
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
const voteState = (page: Page, user: string) => page.locator(`#participants [data-user="${user}"] .vote-state`);

test("pointing party: hidden votes until the reveal, winner stored, tie and re-vote, driver's next card, party over", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const party = "planning";
  for (const user of [alice, bob]) await user.page.goto(`${harness.url}/party/${party}`);
  await alice.page.locator('#participants [data-user="bob"]').waitFor();
  await bob.page.locator('#participants [data-user="alice"]').waitFor();
  await countOf(alice.page.locator("#backlog .backlog-item"), 3);

  // alice starts: she drives, the first card is on both tables
  await alice.page.locator("#start:not([disabled])").click();
  for (const user of [alice, bob]) await textOf(user.page.locator("#card-title-text"), "Sign-up form");
  await textOf(alice.page.locator(".driver"), "You are driving");
  await textOf(bob.page.locator(".driver"), "alice is driving");
  await alice.page.locator("#next-card").waitFor();
  assert.equal(await bob.page.locator("#next-card").count(), 0, "only the driver has the next-card button");

  // alice votes: bob sees that she voted, not what
  await vote(alice.page, 5);
  await textOf(voteState(bob.page, "alice"), "voted");
  assert.equal(await voteState(bob.page, "alice").getAttribute("data-vote"), "voted");
  assert.ok(!(await voteState(bob.page, "alice").textContent())?.includes("5"), "the vote's value stays hidden");
  await textOf(voteState(bob.page, "bob"), "thinking");
  await textOf(bob.page.locator("#result"), "1 of 2 votes in");
  assert.equal(await alice.page.locator('.vote[data-points="5"]').getAttribute("aria-pressed"), "true");

  // bob votes the same: the winner, for both, and the votes revealed
  await vote(bob.page, 5);
  for (const user of [alice, bob]) {
    await textOf(user.page.locator("#result.winner"), /Winner\s*5\s*points/);
    await textOf(voteState(user.page, "alice"), "5");
    await textOf(voteState(user.page, "bob"), "5");
  }
  // stored as the card's estimate (API and backlog)
  const cardsUrl = `${harness.url}/api/parties/${party}/cards`;
  const cards = async (): Promise<Array<{ title: string; estimate: number | null }>> => {
    const response = await fetch(cardsUrl, { headers: { authorization: `Bearer ${await bob.token()}` } });
    assert.equal(response.status, 200);
    return ((await response.json()) as { cards: Array<{ title: string; estimate: number | null }> }).cards;
  };
  assert.deepEqual((await cards()).map((c) => c.estimate), [5, null, null]);
  await textOf(alice.page.locator("#backlog .backlog-item").first().locator(".estimate"), "5");
  await harness.screenshot(alice.page, "party");

  // the driver deals the next card; votes are cleared for everyone
  await alice.page.locator("#next-card").click();
  for (const user of [alice, bob]) {
    await textOf(user.page.locator("#card-title-text"), "Presence list");
    await textOf(voteState(user.page, "alice"), "thinking");
    await textOf(user.page.locator("#result"), "0 of 2 votes in");
  }

  // a tie, then bob changes his mind: a winner
  await vote(alice.page, 3);
  await vote(bob.page, 8);
  for (const user of [alice, bob]) await textOf(user.page.locator("#result.tie"), /Tie\s*3 · 8/);
  await textOf(voteState(alice.page, "bob"), "8");
  await vote(bob.page, 3);
  for (const user of [alice, bob]) await textOf(user.page.locator("#result.winner"), /Winner\s*3\s*points/);

  // last card, then the party is over with every estimate
  await alice.page.locator("#next-card").click();
  for (const user of [alice, bob]) await textOf(user.page.locator("#card-title-text"), "Export estimates");
  await vote(alice.page, 13);
  await vote(bob.page, 13);
  await textOf(alice.page.locator("#result.winner"), /Winner\s*13\s*points/);
  await alice.page.locator("#next-card").click();
  for (const user of [alice, bob]) {
    const over = user.page.locator("#party-over");
    await textOf(over, "Party over");
    const rows = await over.locator("tbody tr").allTextContents();
    assert.deepEqual(rows, ["Sign-up form (average 5 · spread 5)5", "Presence list (average 3 · spread 3)3", "Export estimates (average 13 · spread 13)13"]);
    await textOf(over.locator("tfoot"), "Total21");
  }
  assert.deepEqual((await cards()).map((c) => c.estimate), [5, 3, 13]);
  await harness.screenshot(bob.page, "party-over");

  // a new card from the backlog form: the party goes on
  await bob.page.locator(".add-card summary").click();
  await bob.page.getByLabel("Title").fill("Dark mode");
  await bob.page.getByLabel("Description (optional)").fill("Follow the <em>system</em> setting.");
  await bob.page.locator("#add-card").getByRole("button", { name: "Add card" }).click();
  await textOf(bob.page.locator("#add-card .form-status.ok"), "Added “Dark mode”.");
  await countOf(bob.page.locator("#backlog .backlog-item"), 4);
  await bob.page.locator("#start").click();
  for (const user of [alice, bob]) {
    await textOf(user.page.locator("#card-title-text"), "Dark mode");
    await textOf(user.page.locator("#card p"), "Follow the <em>system</em> setting.");
  }
  await textOf(alice.page.locator(".driver"), "bob is driving");

  harness.assertNoPageErrors();
});
