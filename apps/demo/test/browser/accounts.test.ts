/**
 * Accounts and the browser's defences, in a real browser: signing out in one tab signs out the
 * others of that session (their sockets are closed and refused; they say so) but not the user's
 * other sessions (another browser stays connected, without a blip), while an admin's disconnect
 * ends every session; unknown URLs show an HTML 404 page
 * (JSON stays for /api); a favicon; pages carry CSP / frame / nosniff / referrer headers, cannot
 * be framed, and run without CSP violations.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { CHROMIUM, eventually, PASSWORD, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

test("sign-out in one tab signs out the others; the old token is refused", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const dora = await harness.signUp("dora");
  const token = await dora.token();
  const other = await dora.newTab();
  await other.goto(`${harness.url}/retro/outs`);
  await textOf(other.locator("#online"), / online, /);
  await dora.page.locator("#sign-out").click();
  await dora.page.getByRole("tab", { name: "Sign in" }).waitFor();
  await textOf(other.locator("#signed-out strong"), /^You (signed out; sign in again|are not signed in)/);
  assert.equal(await other.evaluate("document.body.dataset.connection"), "signed-out");
  const me = await fetch(`${harness.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.status, 401, "the token is revoked server-side");
  harness.assertNoPageErrors();
});

/** Records every `data-connection` state a page goes through, from now on. */
async function watchConnection(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(`(() => {
    window.__states = [];
    new MutationObserver(() => window.__states.push(document.body.dataset.connection ?? ""))
      .observe(document.body, { attributes: true, attributeFilter: ["data-connection"] });
  })()`);
  return () => page.evaluate<string[]>("window.__states");
}

test("two browsers of one user: signing out in one leaves the other connected and signed in; an admin's disconnect ends both", { timeout: 90_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const laptop = await harness.signUp("tess");
  const phone = await harness.newUser("tess (phone)");
  const signIn = async (page: Page): Promise<void> => {
    await page.getByLabel("Username").fill("tess");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.locator("#auth-submit").click();
    await textOf(page.locator("header .me"), "tess");
  };
  await signIn(phone.page);
  for (const page of [laptop.page, phone.page]) {
    await page.goto(`${harness.url}/retro/two-sessions`);
    await page.locator('#presence [data-user="tess"]').waitFor();
    await eventually(async () => (await page.evaluate("document.body.dataset.connection")) === "online", 8000, "online");
  }
  const phoneStates = await watchConnection(phone.page);

  await laptop.page.locator("#sign-out").click();
  await laptop.page.getByRole("tab", { name: "Sign in" }).waitFor();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.deepEqual(await phoneStates(), [], "the phone's socket never dropped (no reconnect blip)");
  assert.equal(await phone.page.evaluate("document.body.dataset.connection"), "online");
  assert.equal(await phone.page.locator("#signed-out").count(), 0);
  assert.equal(await phone.page.locator(".toast", { hasText: "Reconnected" }).count(), 0);
  await phone.page.locator("#message-input").fill("still signed in on my phone");
  await phone.page.locator("#message-input").press("Enter");
  await phone.page.locator(".message:not(.pending) .message-body", { hasText: "still signed in on my phone" }).waitFor();
  assert.equal((await fetch(`${harness.url}/api/me`, { headers: { authorization: `Bearer ${await phone.token()}` } })).status, 200);
  // signed in again on the laptop; an admin's disconnect ends both sessions
  await signIn(laptop.page);
  await laptop.page.goto(`${harness.url}/retro/two-sessions`);
  await laptop.page.locator('#presence [data-user="tess"]').waitFor();
  const admin = await fetch(`${harness.url}/api/session`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "admin", password: PASSWORD }),
  });
  const { token } = await admin.json() as { token: string };
  const kicked = await fetch(`${harness.url}/api/admin/disconnect`, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ username: "tess" }),
  });
  assert.deepEqual(await kicked.json(), { ok: true, sessions: 2 });
  for (const page of [laptop.page, phone.page]) {
    await textOf(page.locator("#signed-out strong"), "You were signed out by an administrator");
    assert.equal(await page.evaluate("document.body.dataset.connection"), "signed-out");
  }
  harness.assertNoPageErrors();
});

test("an HTML 404 page for browsers, JSON for /api; a favicon; security headers; /admin cannot be framed", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const erin = await harness.signUp("erin");
  const missing = await erin.page.goto(`${harness.url}/no/such/page`);
  assert.equal(missing?.status(), 404);
  await textOf(erin.page.locator("h1"), "Page not found");
  assert.equal(await erin.page.getByRole("link", { name: "Back to the home page" }).count(), 1);
  const video = await erin.page.goto(`${harness.url}/videos/1e400`);
  assert.equal(video?.status(), 404);
  await textOf(erin.page.locator("h1"), "Page not found");
  const api = await fetch(`${harness.url}/api/nope`, { headers: { accept: "text/html" } });
  assert.equal(api.status, 404);
  assert.deepEqual(await api.json(), { error: "not found" });

  const icon = await fetch(`${harness.url}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/svg+xml");
  assert.equal(await erin.page.locator('link[rel="icon"]').getAttribute("href"), "/favicon.svg");

  const home = await erin.page.goto(`${harness.url}/`);
  const headers = home!.headers();
  assert.match(headers["content-security-policy"] ?? "", /frame-ancestors 'none'/);
  assert.match(headers["content-security-policy"] ?? "", /script-src 'self' 'nonce-/);
  assert.equal(headers["x-frame-options"], "DENY");
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["referrer-policy"], "strict-origin-when-cross-origin");

  // every app's page runs under the policy without a violation
  for (const path of ["/", "/retro/csp", "/videos", "/party/csp", "/admin"]) {
    await erin.page.goto(`${harness.url}${path}`);
    await textOf(erin.page.locator("#online"), / online, /);
  }
  assert.deepEqual(erin.console.filter((line) => /Content Security Policy/i.test(line)), [], "no CSP violations");

  // a page of another origin cannot frame /admin
  const framer = await erin.newTab();
  await framer.route("http://framer.test/", (route) => route.fulfill({ contentType: "text/html", body: `<iframe src="${harness.url}/admin"></iframe>` }));
  await framer.goto("http://framer.test/");
  const frame = framer.frames().find((f) => f.url().startsWith(harness.url));
  const framed = frame === undefined ? 0 : await frame.locator("#app").count().catch(() => 0);
  assert.equal(framed, 0, "the framed /admin never renders");
  harness.assertNoPageErrors();
});
