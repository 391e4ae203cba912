/**
 * Accounts in the browser: a signed-out visitor of any page gets the sign-in form (and lands on
 * the page they wanted afterwards); sign-up and sign-in errors are shown next to the form;
 * sign-out; the dashboard; and the layout at a phone's width (no sideways scrolling).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, PASSWORD, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("accounts: sign-in for any page, clear errors, sign-up, sign-out, dashboard, phone layout", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const taken = await fetch(`${harness.url}/api/users`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "dora", password: PASSWORD }),
  });
  assert.equal(taken.status, 201);

  const visitor = await harness.newUser("visitor");
  const { page } = visitor;
  await page.goto(`${harness.url}/retro/lobby`);
  await textOf(page.locator(".hero"), "Sign in to continue to /retro/lobby");
  assert.equal(await page.locator("#online").count(), 0, "signed-out pages have no socket");
  await harness.screenshot(page, "home");

  // sign-in errors
  const form = page.locator(".auth-form");
  const submit = page.locator("#auth-submit");
  await page.getByLabel("Username").fill("dora");
  await page.getByLabel("Password").fill("not the password");
  await submit.click();
  await textOf(form.locator(".form-status.error"), "Wrong username or password");

  // sign-up errors: checked in the page, then by the server
  await page.getByRole("tab", { name: "Create account" }).click();
  await textOf(form.locator("h2"), "Create your account");
  await page.getByLabel("Username").fill("bad name!");
  await submit.click();
  await textOf(form.locator(".form-status.error"), "A username is 1–32 letters, digits, _ or -.");
  await page.getByLabel("Username").fill("dora");
  await page.getByLabel("Password").fill("short");
  await submit.click();
  await textOf(form.locator(".form-status.error"), "A password has at least 8 characters.");
  await page.getByLabel("Password").fill(PASSWORD);
  await submit.click();
  await textOf(form.locator(".form-status.error"), "That username is taken");

  // sign up for real: back to the page wanted, signed in
  await page.getByLabel("Username").fill("erin");
  await submit.click();
  await page.waitForURL(`${harness.url}/retro/lobby`);
  await textOf(page.locator("header .me"), "erin");
  await textOf(page.locator("#online"), /^1 user online, 1 connection$/);
  await page.locator('#presence [data-user="erin"]').waitFor();

  // sign out: the cookie is gone
  await page.locator("#sign-out").click();
  await page.waitForURL(`${harness.url}/`);
  await page.locator(".auth-form").waitFor();
  await page.goto(`${harness.url}/party/team`);
  await textOf(page.locator(".hero"), "Sign in to continue to /party/team");

  // sign in: lands on the party
  await page.getByLabel("Username").fill("dora");
  await page.getByLabel("Password").fill(PASSWORD);
  await submit.click();
  await page.waitForURL(`${harness.url}/party/team`);
  await textOf(page.locator("header .me"), "dora");

  // the dashboard
  await page.goto(`${harness.url}/`);
  await textOf(page.locator("h1"), "Hi, dora");
  assert.deepEqual(await page.locator(".app-tile h2").allTextContents(), ["Retro rooms", "Video annotations", "Pointing party"]);
  await page.locator("#retro-name").fill("friday");
  await page.locator("#retro-name").press("Enter");
  await page.waitForURL(`${harness.url}/retro/friday`);
  await page.goto(`${harness.url}/`);
  await harness.screenshot(page, "dashboard");

  // a phone's width: nothing scrolls sideways
  const phone = await harness.newUser("phone", { viewport: { width: 390, height: 844 } });
  await phone.page.getByLabel("Username").fill("dora");
  await phone.page.getByLabel("Password").fill(PASSWORD);
  await phone.page.locator("#auth-submit").click();
  await textOf(phone.page.locator("header .me"), "dora");
  for (const path of ["/", "/retro/lobby", "/videos", "/videos/1", "/party/team"]) {
    await phone.page.goto(`${harness.url}${path}`);
    await phone.page.locator("main#app > *").first().waitFor();
    await phone.page.waitForTimeout(150);
    const width = await phone.page.evaluate<number>("document.documentElement.scrollWidth");
    assert.ok(width <= 390, `${path} fits a 390 px screen (scroll width ${width})`);
    if (path === "/retro/lobby") {
      await phone.page.locator("#message-input").fill("Sent from my phone");
      await phone.page.locator("#message-input").press("Enter");
      await textOf(phone.page.locator("#messages .message").last(), "Sent from my phone");
      await harness.screenshot(phone.page, "retro-phone");
    }
  }

  harness.assertNoPageErrors();
});
