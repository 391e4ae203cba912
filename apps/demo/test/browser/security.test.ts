/**
 * Pages as a browser app should serve them: /admin cannot be framed by another site (another
 * origin's page frames it and gets nothing of it), the security headers on pages, an HTML 404 for
 * browsers on unknown URLs (JSON stays under /api), and a favicon.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CHROMIUM, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

/** Another site: a page that frames `target`. */
async function framer(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end(`<!doctype html><title>evil</title><iframe id="victim" src="${target}" width="800" height="600"></iframe>`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

test("another site cannot frame /admin (or any page) of a signed-in admin", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const admin = await harness.signUp("admin");
  await admin.page.goto(`${harness.url}/admin`);
  assert.equal(await admin.page.title(), "Admin · Cinder", "the admin page itself opens");
  await admin.page.locator("#sign-out").waitFor();

  const evil = await framer(`${harness.url}/admin`);
  try {
    const page = await admin.context.newPage();
    const loaded = page.waitForEvent("framenavigated", { predicate: (frame) => frame.parentFrame() !== null });
    await page.goto(evil.url);
    const frame = await loaded;
    await page.locator("#victim").waitFor();
    // The browser refused to render the page in the frame: it holds Chromium's error page, not ours.
    const rendered = await eventually(async () => {
      const child = page.frames().find((f) => f.parentFrame() !== null) ?? frame;
      const title = await child.title().catch(() => "");
      const controls = await child.locator("#sign-out, #app").count().catch(() => 0);
      return child.url().startsWith("chrome-error:") || (title !== "Admin · Cinder" && controls === 0) ? { title, controls } : undefined;
    }, 8000, "the framed admin page to be blocked");
    assert.equal(rendered.controls, 0, "none of the admin page is rendered in the frame");
    await page.close();
  } finally {
    evil.server.close();
  }
});

test("pages carry CSP, frame-ancestors, X-Frame-Options, nosniff and a referrer policy; unknown URLs get an HTML 404; a favicon", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  for (const path of ["/", "/admin", "/retro/lobby"]) {
    const headers = (await fetch(`${harness.url}${path}`)).headers;
    assert.match(headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/, path);
    assert.match(headers.get("content-security-policy") ?? "", /default-src 'self'/, path);
    assert.equal(headers.get("x-frame-options"), "DENY", path);
    assert.equal(headers.get("x-content-type-options"), "nosniff", path);
    assert.ok(headers.get("referrer-policy"), path);
  }
  const api = await fetch(`${harness.url}/api/no-such-thing`, { headers: { accept: "text/html" } });
  assert.equal(api.status, 404);
  assert.deepEqual(await api.json(), { error: "not found" }, "JSON stays under /api");

  const user = await harness.signUp("lost");
  const answer = await user.page.goto(`${harness.url}/no/such/page`);
  assert.equal(answer?.status(), 404);
  await textOf(user.page.locator("h1"), "Page not found");
  assert.equal(await user.page.locator("a[href='/']").count() > 0, true, "a way home");

  const icon = await fetch(`${harness.url}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.match(icon.headers.get("content-type") ?? "", /^image\//);
  await user.page.goto(`${harness.url}/`);
  const linked = await user.page.locator("link[rel~='icon']").getAttribute("href");
  assert.ok(linked !== null, "pages link a favicon");
  assert.equal((await fetch(new URL(linked, harness.url))).status, 200);
  harness.assertNoPageErrors();
});
