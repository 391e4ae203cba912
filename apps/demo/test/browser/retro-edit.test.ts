/**
 * The retro board's idea editor under someone else's change: what the author has typed into an
 * idea's edit field survives the re-render another user's new idea causes, and is what Enter stores.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("retro board: a half-typed idea edit survives another user's new idea and is what Enter stores", { timeout: 60_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  for (const user of [alice, bob]) await user.page.goto(`${harness.url}/retro/drafts`);
  await bob.page.locator("#idea-input-to_improve").fill("Flaky tests");
  await bob.page.locator("#idea-input-to_improve").press("Enter");
  for (const user of [alice, bob]) await countOf(user.page.locator(".idea"), 1);

  await bob.page.locator(".idea", { hasText: "Flaky tests" }).locator(".idea-edit").click();
  await bob.page.locator(".idea.editing input").fill("Flaky integration tests");
  // Alice adds an idea while bob's edit is open: bob's board re-renders.
  await alice.page.locator("#idea-input-went_well").fill("Deploys were smooth");
  await alice.page.locator("#idea-input-went_well").press("Enter");
  await countOf(bob.page.locator(".idea"), 2);
  assert.equal(await bob.page.locator(".idea.editing input").inputValue(), "Flaky integration tests", "the typed text is kept across the re-render");

  await bob.page.locator(".idea.editing input").press("Enter");
  for (const user of [alice, bob]) await textOf(user.page.locator('[data-column="to_improve"]'), "Flaky integration tests");
});
