/**
 * The operators' live dashboard (/admin/dashboard, @cinder/dashboard) in Chromium: an admin sees
 * the node's live connection count rise when another user's connection opens, disconnects that
 * socket id from the page's form and sees the count drop (the raw connection is closed by the
 * server); the messages chart draws; a non-admin gets "Admins only" from the route and
 * "unauthorized" from the channel itself.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { Page } from "playwright-core";
import { sessionSocketId } from "../../src/accounts.js";
import { CHROMIUM, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

/** Opens a raw V2 WebSocket from `page` (no client, so no reconnect) and keeps it as `window.raw`; resolves once open. */
async function openRaw(page: Page, token: string): Promise<void> {
  await page.evaluate(`new Promise((resolve, reject) => {
    const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/socket/websocket?vsn=2.0.0&token=" + encodeURIComponent(${JSON.stringify(token)}));
    const replies = [];
    ws.onmessage = (event) => { replies.push(JSON.parse(String(event.data))); };
    window.raw = { ws, replies };
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("the raw WebSocket failed"));
  })`);
}

test("dashboard: live connection count, disconnect a socket id, refused to non-admins", { timeout: 60_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const bob = await harness.signUp("bob");
  const admin = await harness.signUp("admin");
  await bob.page.goto(`${harness.url}/admin/dashboard`);
  await textOf(bob.page.locator("h1"), "Admins only");
  await admin.page.goto(`${harness.url}/admin`);
  await admin.page.locator("#dashboard-link").click();
  await admin.page.waitForURL(`${harness.url}/admin/dashboard`);
  await textOf(admin.page.locator("#status"), "Live");
  await textOf(admin.page.locator("#total-nodes"), /^1$/);
  // the dashboard's own socket and bob's page (the "Admins only" page keeps the app's socket)
  await textOf(admin.page.locator("#total-connections"), /^2$/);

  // bob's connection (raw, never reconnecting) appears on the dashboard
  await openRaw(bob.page, await bob.token());
  await textOf(admin.page.locator("#total-connections"), /^3$/);
  await textOf(admin.page.locator("#by-transport"), "ws 3 · long-poll 0");

  // the channel itself refuses a non-admin's join (not only the route)
  await bob.page.evaluate(`window.raw.ws.send(JSON.stringify(["1", "1", "cinder:dashboard", "phx_join", {}]))`);
  const refusal = await eventually(() => bob.page.evaluate<unknown[] | undefined>(
    `window.raw.replies.find((m) => m[2] === "cinder:dashboard" && m[3] === "phx_reply")`), 5000, "the join reply");
  assert.deepEqual(refusal[4], { status: "error", response: { reason: "unauthorized" } });

  // on the dashboard's form: a bad id is an error, his socket id disconnects him
  const sessions = await harness.app.store.sessionIds(await bob.id());
  assert.equal(sessions.length, 1);
  await admin.page.locator("#disconnect-id").fill(" ");
  await admin.page.locator("#disconnect-form").getByRole("button", { name: "Disconnect" }).click();
  await textOf(admin.page.locator("#disconnect-status.error"), "id must be a non-empty string");
  const socketId = sessionSocketId(sessions[0] ?? "");
  await admin.page.locator("#disconnect-id").fill(socketId);
  await admin.page.locator("#disconnect-form").getByRole("button", { name: "Disconnect" }).click();
  await textOf(admin.page.locator("#disconnect-status.ok"), `Disconnected ${socketId}`);
  await eventually(() => bob.page.evaluate<boolean>("window.raw.ws.readyState === WebSocket.CLOSED"),
    5000, "bob's connection closed by the server");
  // bob's page reconnects on its own (its session is still valid); the raw connection stays closed
  await textOf(admin.page.locator("#total-connections"), /^2$/);
  await textOf(admin.page.locator("#status"), "Live");

  // the chart has points for both lines, the node table one row, channels by pattern listed
  await eventually(async () => ((await admin.page.locator("#line-out").getAttribute("points")) ?? "").split(" ").length >= 3, 8000, "chart points");
  assert.equal(await admin.page.locator("#nodes tbody tr").count(), 1);
  await textOf(admin.page.locator("#channels"), "cinder:dashboard");
  await harness.screenshot(admin.page, "operator-dashboard");
  harness.assertNoPageErrors();
});
