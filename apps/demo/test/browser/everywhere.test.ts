/**
 * What every page shares, in the browser: the home page's recent rooms with "copy invite link"
 * (the copied link brings another user into the room), toasts placed in the page's flow where
 * they cover no control and dismissible, and a refused join that leaves the composer usable
 * with a "Try again".
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("home: recent rooms, copy invite link, the link brings another user in", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");
  await alice.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: harness.url });
  await textOf(alice.page.locator("#recent"), "Rooms and parties you open show up here");
  for (const room of ["alpha", "beta"]) {
    await alice.page.goto(`${harness.url}/retro/${room}`);
    await textOf(alice.page.locator("#facilitator"), "alice");
  }
  await alice.page.goto(`${harness.url}/`);
  await countOf(alice.page.locator("#recent .recent-item"), 2);
  assert.deepEqual(await alice.page.locator("#recent .recent-item a").allTextContents(), ["beta", "alpha"], "newest first");
  await alice.page.locator('#recent [data-name="beta"] .copy-invite').click();
  await textOf(alice.page.locator("#toasts"), "Invite link copied");
  const link = await alice.page.evaluate<string>("navigator.clipboard.readText()");
  assert.equal(link, `${harness.url}/retro/beta`);
  await harness.screenshot(alice.page, "home-recent");

  await bob.page.goto(link);
  await alice.page.goto(link);
  await bob.page.locator('#presence [data-user="alice"]').waitFor();
  harness.assertNoPageErrors();
});

test("toasts cover no control and can be dismissed; a refused join leaves the composer usable, with a retry", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const admin = await harness.signUp("admin");
  await admin.page.goto(`${harness.url}/admin`);
  await admin.page.locator("#broadcast-body").fill("Maintenance at 18:00");
  await admin.page.locator("#broadcast-form button[type=submit]").click();
  const toast = admin.page.locator("#toasts .toast", { hasText: "Maintenance at 18:00" });
  await toast.waitFor();
  const covered = await admin.page.evaluate(`(() => {
    const toast = document.querySelector("#toasts .toast").getBoundingClientRect();
    return [...document.querySelectorAll("main button, main input, main textarea")].filter((control) => {
      const r = control.getBoundingClientRect();
      return r.width > 0 && r.left < toast.right && r.right > toast.left && r.top < toast.bottom && r.bottom > toast.top;
    }).map((control) => control.id || control.textContent);
  })()`);
  assert.deepEqual(covered, [], "no control under the toast");
  await harness.screenshot(admin.page, "admin-toast");
  await toast.locator(".toast-close").click();
  await countOf(admin.page.locator("#toasts .toast"), 0);

  // a room name the server refuses: the page says so, offers a retry, and the composer stays usable
  await admin.page.goto(`${harness.url}/retro/${"x".repeat(101)}`);
  await textOf(admin.page.locator(".notice-error"), "Could not join this room");
  assert.ok(await admin.page.locator("#retry-join").isVisible(), "a Try again button");
  assert.ok(await admin.page.locator("#message-input").isEnabled(), "the composer is not left disabled");
  harness.assertNoPageErrors();
});
