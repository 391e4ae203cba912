/**
 * The pointing party's backlog editor under someone else's change: what a user has typed into a
 * card's edit form survives the re-render another user's action causes (here a card moved while
 * the form is open), keeps its focus, and is what Save stores for everyone.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const titles = async (page: Page): Promise<string[]> => page.locator("#backlog .backlog-title").allTextContents();

test("pointing party: a half-typed card edit survives another user's backlog change and is what Save stores", { timeout: 60_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  for (const user of [alice, bob]) await user.page.goto(`${harness.url}/party/drafts`);
  for (const user of [alice, bob]) await countOf(user.page.locator("#participants .person"), 2);
  await alice.page.locator("#start:not([disabled])").click();
  for (const user of [alice, bob]) await countOf(user.page.locator("#backlog .backlog-item"), 3);
  const before = await titles(bob.page);

  // Bob opens the last card's form and types, without saving.
  const last = bob.page.locator("#backlog .backlog-item").nth(2);
  await last.locator(".edit").click();
  await last.locator(".edit-title").fill("Typed while alice moved a card");

  // Alice moves the last card up: bob's backlog re-renders with the form still open.
  await alice.page.locator("#backlog .backlog-item").nth(2).locator(".move-up").click();
  const moved = [before[0]!, before[2]!, before[1]!].join("|");
  await eventually(async () => (await titles(alice.page)).join("|") === moved, 8000, "alice's new order");
  await eventually(async () => (await bob.page.locator("#backlog .backlog-item").nth(1).locator(".edit-title").count()) === 1, 8000, "bob's form at the card's new place");
  const input = bob.page.locator("#backlog .edit-title");
  assert.equal(await input.inputValue(), "Typed while alice moved a card", "the typed title is kept across the re-render");
  assert.equal(await input.evaluate((el) => el === el.ownerDocument.activeElement), true, "the field keeps the focus");

  await bob.page.locator("#backlog .backlog-edit").getByRole("button", { name: "Save" }).click();
  for (const user of [alice, bob]) {
    await eventually(async () => (await titles(user.page)).join("|") === [before[0]!, "Typed while alice moved a card", before[1]!].join("|"), 8000, `${user.name}'s saved title`);
  }
});
