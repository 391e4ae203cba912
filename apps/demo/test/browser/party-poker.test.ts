/**
 * The pointing party's planning-poker features in the browser, three users in their own
 * contexts: the deck (a preset and a custom list reach every page; "?" and "☕" are in each and
 * never count), the average and spread beside the winner, the driver's timer seen by everyone
 * and stopped for everyone, the driver's early reveal, the backlog's edit / move / delete live
 * on every page, and the estimates summary copied to the clipboard and downloaded as CSV.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const vote = (page: Page, points: number | string): Promise<void> => page.locator(`.vote[data-points="${points}"]`).click();
const deckOn = async (page: Page): Promise<string[]> => page.locator(".votes .vote").evaluateAll((buttons) => buttons.map((b) => b.textContent ?? ""));
const titles = async (page: Page): Promise<string[]> => page.locator("#backlog .backlog-title").allTextContents();

test("pointing party: decks with ? and ☕, average and spread, timer, reveal, backlog edit/move/delete, summary copy and CSV", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const carol = await harness.signUp("carol");
  const users = [alice, bob, carol];
  for (const user of users) await user.page.goto(`${harness.url}/party/poker`);
  for (const user of users) await countOf(user.page.locator("#participants .person"), 3);
  await alice.page.locator("#start:not([disabled])").click();
  for (const user of users) await textOf(user.page.locator("#card-place"), /^Card 1$/);
  assert.deepEqual(await deckOn(bob.page), ["1", "2", "3", "5", "8", "13", "?", "☕"]);
  assert.equal(await bob.page.locator("#deck").count(), 0, "only whoever may drive picks the deck");

  // T-shirt sizes, then a custom deck: every page gets the new cards.
  await alice.page.locator("#deck").selectOption("tshirt");
  for (const user of users) await eventually(async () => (await deckOn(user.page)).join(" ") === "XS S M L XL ? ☕", 8000, `${user.name}'s T-shirt deck`);
  await textOf(bob.page.locator(".deck-name"), "T-shirt sizes");
  await alice.page.locator("#deck").selectOption("custom");
  await alice.page.locator("#deck-custom").fill("1, 2, 3, 3");
  await alice.page.locator("#deck-save").click();
  await textOf(alice.page.locator(".form-status.error"), "The card 3 is in the deck twice.");
  await alice.page.locator("#deck-custom").fill("1, 2, 3, 5, 8, 20");
  await alice.page.locator("#deck-save").click();
  for (const user of users) await eventually(async () => (await deckOn(user.page)).join(" ") === "1 2 3 5 8 20 ? ☕", 8000, `${user.name}'s custom deck`);

  // Votes with ☕: it does not count; the winner has the average and spread of the numbers beside it.
  await vote(alice.page, 5);
  await vote(bob.page, "☕");
  await vote(carol.page, 3);
  for (const user of users) await textOf(user.page.locator("#result.tie"), /Tie\s*3 · 5/);
  await textOf(carol.page.locator("#result-stats"), "average 4 · spread 3–5");
  await vote(bob.page, 20);
  for (const user of users) await textOf(user.page.locator("#result"), /Tie\s*3 · 5 · 20/);
  await vote(carol.page, 5);
  for (const user of users) {
    await textOf(user.page.locator("#result.winner"), /Winner\s*5\s*points/);
    await textOf(user.page.locator("#result-stats"), "average 10 · spread 5–20");
  }
  await harness.screenshot(bob.page, "party-poker-winner");

  // The timer: alice starts it, everyone sees it, alice stops it for everyone; then she reveals early.
  await alice.page.locator("#next-card").click();
  for (const user of users) await textOf(user.page.locator("#card-place"), /^Card 2$/);
  await alice.page.locator('[data-timer="60"]').click();
  for (const user of users) await textOf(user.page.locator("#timer"), /^(1:00|0:5\d) left$/);
  await harness.screenshot(carol.page, "party-poker-timer");
  await alice.page.locator("#stop-timer").click();
  for (const user of users) await eventually(() => user.page.locator("#timer").isHidden(), 8000, `${user.name}'s timer gone`);
  await vote(alice.page, "?");
  await vote(bob.page, 8);
  await alice.page.locator("#reveal").click();
  for (const user of users) {
    await textOf(user.page.locator("#result.winner"), /Winner\s*8\s*points/);
    await textOf(user.page.locator("#result-stats"), "average 8 · spread 8");
  }
  assert.equal(await carol.page.locator('.vote[data-points="3"]').isDisabled(), true, "the revealed card is final for carol, who never voted");

  // The backlog: bob edits the card on the table, moves the last card up, deletes it; every page follows.
  const second = bob.page.locator("#backlog .backlog-item").nth(1);
  await second.locator(".edit").click();
  await second.locator(".edit-title").fill("Presence list, with tabs");
  await second.getByRole("button", { name: "Save" }).click();
  for (const user of users) await textOf(user.page.locator("#card-title-text"), "Presence list, with tabs");
  await bob.page.locator("#backlog .backlog-item").nth(2).locator(".move-up").click();
  for (const user of users) await eventually(async () => (await titles(user.page)).join("|") === "Sign-up form|Export estimates|Presence list, with tabs", 8000, `${user.name}'s order`);
  await textOf(carol.page.locator("#card-place"), /^Card 3$/);
  assert.equal(await bob.page.locator("#backlog .backlog-item.current .delete").isDisabled(), true, "the card on the table cannot be deleted");
  bob.page.once("dialog", (dialog) => void dialog.accept());
  await bob.page.locator("#backlog .backlog-item").nth(1).locator(".delete").click();
  for (const user of users) await countOf(user.page.locator("#backlog .backlog-item"), 2);
  await textOf(alice.page.locator("#card-place"), /^Card 2$/);

  // The summary: copied to the clipboard, and downloaded as CSV.
  await carol.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: harness.url });
  await carol.page.locator("#copy-summary").click();
  await textOf(carol.page.locator(".summary-actions .form-status.ok"), "Copied the summary (2 estimates).");
  const copied = await carol.page.evaluate<string>("navigator.clipboard.readText()");
  assert.equal(copied, [
    "Estimates — poker",
    "1. Sign-up form — 5 (average 10, 5–20)",
    "2. Presence list, with tabs — 8 (average 8, 8)",
    "Total: 13 points", "",
  ].join("\n"));
  const [download] = await Promise.all([carol.page.waitForEvent("download"), carol.page.locator("#download-csv").click()]);
  assert.equal(download.suggestedFilename(), "estimates-poker.csv");
  const path = await download.path();
  assert.equal(readFileSync(path, "utf8"), [
    "position,title,description,estimate,average,min,max",
    "1,Sign-up form,\"Users sign up with a username and a password, and see clear errors.\",5,10,5,20",
    "2,\"Presence list, with tabs\",\"Show who is in the room, since when, and on how many tabs.\",8,8,8,8", "",
  ].join("\r\n"));
  await harness.screenshot(carol.page, "party-poker-backlog");
  harness.assertNoPageErrors();
});
