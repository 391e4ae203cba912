/**
 * The back office and notifications in the browser: admins only; the live online counts; a
 * broadcast reaching every page as a toast (as text); a note reaching one user only; clear
 * form errors; a force-disconnect that signs the user out: every page of theirs shows "You were
 * signed out by an administrator" and does not get back in; a deleted account's page says its
 * session ended.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("admin: counts, broadcast and notes as toasts, form errors, force-disconnect signs the user out everywhere", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const bob = await harness.signUp("bob");
  const alice = await harness.signUp("alice");
  const admin = await harness.signUp("admin");

  // not for everyone
  await bob.page.goto(`${harness.url}/admin`);
  await textOf(bob.page.locator("h1"), "Admins only");
  assert.equal(await bob.page.locator('header nav a[href="/admin"]').count(), 0, "no admin link for non-admins");
  await bob.page.goto(`${harness.url}/retro/lobby`);
  await bob.page.locator('#presence [data-user="bob"]').waitFor();

  // the live counts
  await admin.page.goto(`${harness.url}/admin`);
  await textOf(admin.page.locator("#stat-users"), "3");
  await textOf(admin.page.locator("#stat-connections"), "3");
  await textOf(admin.page.locator("#online"), /^3 users online, 3 connections$/);
  const aliceTab = await alice.newTab();
  await aliceTab.goto(`${harness.url}/`);
  await textOf(admin.page.locator("#stat-connections"), "4");
  await textOf(admin.page.locator("#stat-users"), "3");
  await aliceTab.close();
  await textOf(admin.page.locator("#stat-connections"), "3");

  // a broadcast reaches every page as a toast, as text
  const announcement = "Deploy at 18:00 — <b>save</b> your work";
  await admin.page.locator("#broadcast-body").fill(announcement);
  await admin.page.locator("#broadcast-form").getByRole("button", { name: "Send to everyone" }).click();
  await textOf(admin.page.locator("#broadcast-form .form-status.ok"), "Broadcast sent");
  for (const user of [bob, alice]) {
    const toast = user.page.locator(".toast-announcement", { hasText: "Deploy at 18:00" });
    await toast.waitFor();
    await textOf(toast.locator(".toast-body"), announcement);
    assert.equal(await toast.locator("b").count(), 0, "the broadcast's markup is text");
  }

  // notes: a clear error for an unknown user, then a note to bob only
  await admin.page.locator("#notify-username").fill("nobody");
  await admin.page.locator("#notify-body").fill("Hello?");
  await admin.page.locator("#notify-form").getByRole("button", { name: "Send note" }).click();
  await textOf(admin.page.locator("#notify-form .form-status.error"), "No such user");
  await admin.page.locator("#notify-username").fill("bob");
  await admin.page.locator("#notify-body").fill("Your retro starts in 5 minutes.");
  await admin.page.locator("#notify-form").getByRole("button", { name: "Send note" }).click();
  await textOf(admin.page.locator("#notify-form .form-status.ok"), "Note sent to bob");
  await textOf(bob.page.locator(".toast-personal"), "Your retro starts in 5 minutes.");
  await textOf(admin.page.locator("#activity"), "Note sent to bob");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await alice.page.locator(".toast-personal").count(), 0, "a note reaches its user only");
  await harness.screenshot(admin.page, "admin");

  // force-disconnect bob: his sessions are revoked; every page of his says so and stays out
  const bobTab = await bob.newTab();
  await bobTab.goto(`${harness.url}/videos`);
  await textOf(bobTab.locator("#online"), /users online/);
  await admin.page.locator("#disconnect-username").fill("bob");
  await admin.page.locator("#disconnect-form").getByRole("button", { name: "Disconnect" }).click();
  await textOf(admin.page.locator("#disconnect-form .form-status.ok"), "Disconnected bob");
  for (const page of [bob.page, bobTab]) {
    await textOf(page.locator("#signed-out strong"), "You were signed out by an administrator");
    await textOf(page.locator("#connection"), "You were signed out by an administrator");
    assert.equal(await page.evaluate("document.body.dataset.connection"), "signed-out");
  }
  await harness.screenshot(bob.page, "signed-out-by-admin");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await bob.page.evaluate("document.body.dataset.connection"), "signed-out", "no reconnect with the old token");
  await bob.page.reload();
  await bob.page.getByRole("tab", { name: "Sign in" }).waitFor();
  assert.equal(await bob.page.evaluate("window.userToken"), null, "the reloaded page is signed out");
  await textOf(admin.page.locator("#online"), /^2 users online/);

  // an account deleted under an open page: refused cleanly, and the page says so
  const carol = await harness.signUp("carol");
  await textOf(carol.page.locator("#online"), /^3 users online/);
  const carolId = await carol.id();
  // (as an operator would: the account's sessions are read first, deleted with it, then closed)
  const carolSessions = await harness.app.store.sessionIds(carolId);
  await harness.app.store.db.query("DELETE FROM users WHERE id = ?", [carolId]);
  for (const session of carolSessions) harness.app.endpoint.disconnect(`session:${session}`);
  await textOf(carol.page.locator("#signed-out strong"), "Your session has ended; sign in again");
  await harness.screenshot(carol.page, "disconnected");
  await countOf(admin.page.locator("#stat-users"), 1);
  await textOf(admin.page.locator("#stat-users"), "2");

  harness.assertNoPageErrors();
});

test("notices sent while a page was cut off reach it once it is back, once each (stream topics)", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const dora = await harness.signUp("dora");
  const connection = (): Promise<string> => dora.page.evaluate<string>("document.body.dataset.connection ?? ''");
  const user = await harness.app.store.userByName("dora");
  assert.ok(user !== undefined);
  // Her page's next WebSockets go through a route, so the test can keep it away: without that
  // it is back within milliseconds, too fast to see it cut off (and to be sure it missed anything).
  let blocked = false;
  await dora.page.routeWebSocket(/\/socket\/websocket/, (ws) => {
    if (blocked) ws.close({ reason: "cut off by the test" });
    else ws.connectToServer();
  });
  await dora.page.reload(); // (a route applies to the pages loaded after it)
  await eventually(async () => (await connection()) === "online", 8000, "dora online through the route");
  // The server drops dora's connection, and an admin broadcast (what POST /api/admin/broadcast
  // sends) goes out before her page is back: only the stream's replay can bring it.
  blocked = true;
  await harness.app.disconnectUser(user.id);
  await eventually(async () => (await connection()) === "disconnected", 8000, "dora's page cut off");
  harness.app.endpoint.broadcast("notifications:all", "new_msg", { body: "Missed while away", at: Date.now() });
  const missed = dora.page.locator(".toast-announcement", { hasText: "Missed while away" });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await missed.count(), 0, "nothing reaches a page that is cut off");
  blocked = false;
  await missed.first().waitFor({ timeout: 15_000 });
  await eventually(async () => (await connection()) === "online", 8000, "dora back");
  await new Promise((resolve) => setTimeout(resolve, 500));
  await countOf(missed, 1);
  await harness.screenshot(dora.page, "notice-after-blip");
});
