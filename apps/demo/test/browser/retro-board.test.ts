/**
 * The retro board in the browser, three users in separate contexts: ideas added, edited and
 * deleted (one's own only) in three columns, the facilitator moving the stages for everyone,
 * votes within the per-person budget, action items with owners, the Markdown export, the board
 * back complete after a reload and after a server restart (with the same facilitator),
 * facilitation handed over when the facilitator leaves, and taken over when they are away. Then the chat: history beyond the last 50 loaded on scroll, and a
 * message sent while the server is down shown as pending, then delivered.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

const idea = (page: Page, text: string) => page.locator(".idea", { hasText: text });
const stageOf = (page: Page) => page.locator('#stages [aria-current="step"]');

async function addIdea(page: Page, column: string, text: string): Promise<void> {
  await page.locator(`#idea-input-${column}`).fill(text);
  await page.locator(`#idea-input-${column}`).press("Enter");
}

test("retro board: ideas, stages for everyone, vote budget, action items, export, reload, server restart, hand-over", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  const carol = await harness.signUp("carol");
  const roomUrl = `${harness.url}/retro/sprint-7`;
  await alice.page.goto(roomUrl);
  await textOf(alice.page.locator("#facilitator"), "Facilitator: alice (you)");
  await bob.page.goto(roomUrl);
  await carol.page.goto(roomUrl);
  const everyone = [alice, bob, carol];
  for (const u of everyone) await textOf(stageOf(u.page), "Brainstorm");
  await textOf(bob.page.locator("#facilitator"), "Facilitator: alice");
  assert.equal(await bob.page.locator("#stage-next").count(), 0, "only the facilitator moves the stages");

  // brainstorm: ideas in three columns, live for everyone
  await addIdea(alice.page, "went_well", "Deploys were smooth");
  await addIdea(bob.page, "to_improve", "Flaky tests");
  await addIdea(bob.page, "questions", "Who owns CI?");
  await addIdea(carol.page, "to_improve", "Typo idea");
  for (const u of everyone) {
    await countOf(u.page.locator(".idea"), 4);
    await textOf(u.page.locator('[data-column="to_improve"]'), "Flaky tests");
  }
  // only one's own ideas can be edited or deleted
  assert.equal(await idea(bob.page, "Deploys were smooth").locator(".idea-edit, .idea-delete").count(), 0);
  await idea(bob.page, "Flaky tests").locator(".idea-edit").click();
  await bob.page.locator(".idea.editing input").fill("Flaky integration tests");
  await bob.page.locator(".idea.editing input").press("Enter");
  await idea(carol.page, "Typo idea").locator(".idea-delete").click();
  for (const u of everyone) {
    await textOf(u.page.locator('[data-column="to_improve"]'), "Flaky integration tests");
    await countOf(u.page.locator(".idea"), 3);
  }

  // the facilitator moves to the vote, for everyone
  await alice.page.locator("#stage-next").click();
  for (const u of everyone) await textOf(stageOf(u.page), "Vote");
  await textOf(bob.page.locator("#votes-left"), "3 votes left of 3");
  assert.equal(await bob.page.locator(".idea-form").count(), 0, "no new ideas during the vote");

  // bob spends his whole budget; the vote buttons are then disabled; one vote taken back
  for (let i = 0; i < 3; i++) {
    await idea(bob.page, "Flaky integration tests").locator(".vote-add").click();
    await textOf(bob.page.locator("#votes-left"), `${2 - i} vote${2 - i === 1 ? "" : "s"} left of 3`);
  }
  assert.ok(await idea(bob.page, "Who owns CI?").locator(".vote-add").isDisabled(), "no votes beyond the budget");
  await textOf(idea(alice.page, "Flaky integration tests").locator(".idea-votes"), "3 votes");
  await idea(bob.page, "Flaky integration tests").locator(".vote-remove").click();
  await textOf(bob.page.locator("#votes-left"), "1 vote left of 3");
  await idea(carol.page, "Who owns CI?").locator(".vote-add").click();
  await textOf(idea(alice.page, "Flaky integration tests").locator(".idea-votes"), "2 votes");
  await textOf(idea(alice.page, "Who owns CI?").locator(".idea-votes"), "1 vote");

  // discuss: an action item with an owner, seen by all
  await alice.page.locator("#stage-next").click();
  for (const u of everyone) await textOf(stageOf(u.page), "Discuss");
  await alice.page.locator("#action-input").fill("Quarantine flaky tests");
  await alice.page.locator("#action-owner").selectOption("bob");
  await alice.page.locator("#action-input").press("Enter");
  await textOf(bob.page.locator("#action-items .action"), "Quarantine flaky tests");
  await textOf(bob.page.locator("#action-items .action .action-owner"), "bob");
  await harness.screenshot(alice.page, "retro-board");

  // the export, as a Markdown download
  const [download] = await Promise.all([alice.page.waitForEvent("download"), alice.page.locator("#export-markdown").click()]);
  assert.equal(download.suggestedFilename(), "retro-sprint-7.md");
  const markdown = readFileSync(await download.path(), "utf8");
  assert.match(markdown, /^- Flaky integration tests \(2 votes, bob\)$/m);
  assert.match(markdown, /^- \[ \] Quarantine flaky tests — bob$/m);

  // a reload brings the board back complete
  await carol.page.reload();
  await textOf(stageOf(carol.page), "Discuss");
  await countOf(carol.page.locator(".idea"), 3);
  await textOf(idea(carol.page, "Flaky integration tests").locator(".idea-votes"), "2 votes");
  await textOf(carol.page.locator("#action-items"), "Quarantine flaky tests");

  // so does a server restart, for pages that stayed open; and the board is live again after it
  await harness.restart();
  for (const u of everyone) await eventually(() => u.page.evaluate<boolean>(`document.body.dataset.connection === "online"`), 15_000, `${u.name} back online`);
  // the facilitator is still alice after the restart (a shutdown hands nothing over), for everyone
  const facilitatorName = async (page: Page): Promise<string> => (await page.locator("#facilitator strong").textContent({ timeout: 8000 })) ?? "";
  for (const u of everyone) await textOf(u.page.locator("#facilitator strong"), /^alice$/);
  const leader = alice;
  const lead = "alice";
  await leader.page.locator("#stage-next").click();
  for (const u of everyone) await textOf(stageOf(u.page), "Actions");
  await alice.page.locator("#action-input").fill("Name a CI owner");
  await alice.page.locator("#action-input").press("Enter");
  for (const u of everyone) {
    await countOf(u.page.locator("#action-items .action"), 2);
    await countOf(u.page.locator(".idea"), 3);
    await textOf(idea(u.page, "Flaky integration tests").locator(".idea-votes"), "2 votes");
  }
  await alice.page.reload();
  await textOf(stageOf(alice.page), "Actions");
  await countOf(alice.page.locator("#action-items .action"), 2);

  // the facilitator leaves: someone still here takes over (the same one for everyone), and can move the stages
  await leader.page.goto(`${harness.url}/`);
  const stayed = everyone.filter((u) => u !== leader);
  const next = await eventually(async () => {
    const names = await Promise.all(stayed.map((u) => facilitatorName(u.page)));
    return names.every((n) => n === names[0] && n !== lead && stayed.some((u) => u.name === n)) ? names[0] : undefined;
  }, 10_000, "a new facilitator, the same for everyone");
  const successor = stayed.find((u) => u.name === next)!;
  await textOf(successor.page.locator("#facilitator"), "(you)");
  await successor.page.locator("#stage-back").click();
  for (const u of stayed) await textOf(stageOf(u.page), "Discuss");

  // the last one leaves: they stay facilitator while away; whoever comes next may take it over
  const other = stayed.find((u) => u !== successor)!;
  await other.page.goto(`${harness.url}/`);
  await successor.page.goto(`${harness.url}/`);
  await alice.page.goto(roomUrl);
  await textOf(alice.page.locator("#facilitator"), `Facilitator: ${successor.name} (away)`);
  await alice.page.locator("#claim").click();
  await textOf(alice.page.locator("#facilitator"), "Facilitator: alice (you)");
  await alice.page.locator("#stage-next").waitFor();
  harness.assertNoPageErrors();
});

test("retro chat: earlier messages on scroll, a message sent while the server is down is pending, then delivered", { timeout: 90_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const dave = await harness.signUp("dave");
  const erin = await harness.signUp("erin");
  const roomId = await harness.app.store.room("history");
  const daveUser = await harness.app.store.userByName("dave");
  assert.ok(daveUser !== undefined);
  for (let i = 1; i <= 60; i++) await harness.app.store.addMessage(roomId, daveUser, `Old note ${i}`);

  const roomUrl = `${harness.url}/retro/history`;
  await dave.page.goto(roomUrl);
  await erin.page.goto(roomUrl);
  await countOf(dave.page.locator("#messages .message"), 50);
  await textOf(dave.page.locator("#messages .message").first(), "Old note 11");
  await dave.page.locator("#messages").evaluate((list) => { list.scrollTop = 0; });
  await countOf(dave.page.locator("#messages .message"), 60);
  await textOf(dave.page.locator("#messages .message").first(), "Old note 1");
  assert.ok(await dave.page.locator("#load-earlier").isHidden(), "nothing earlier to load");
  const texts = await dave.page.locator("#messages .message .message-body").allTextContents();
  assert.deepEqual(texts, Array.from({ length: 60 }, (_, i) => `Old note ${i + 1}`));

  // the server goes down: the presence list is marked stale, a message waits as pending
  await harness.restart(async () => {
    await eventually(() => dave.page.evaluate<boolean>(`document.body.dataset.connection === "disconnected"`), 10_000, "dave offline");
    assert.ok(await dave.page.locator("#presence-stale").isVisible(), "the presence list says it may be out of date");
    await dave.page.locator("#message-input").fill("Sent while offline");
    await dave.page.locator("#message-input").press("Enter");
    await textOf(dave.page.locator("#messages .message.pending"), "Waiting for the connection…");
    await harness.screenshot(dave.page, "retro-offline-pending");
  });
  // back up: it is sent, and reaches erin
  await textOf(erin.page.locator("#messages .message").last(), "Sent while offline", 20_000);
  await countOf(dave.page.locator("#messages .message.pending"), 0, 10_000);
  await textOf(dave.page.locator("#messages .message").last(), "Sent while offline");
  assert.ok(await dave.page.locator("#presence-stale").isHidden(), "fresh again after the rejoin");
  harness.assertNoPageErrors();
});
