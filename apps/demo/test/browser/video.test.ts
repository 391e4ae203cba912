/**
 * Video annotations in the browser, two users: the video list and its add form (errors,
 * titles as text, a YouTube video that cannot load offline says so); annotations posted at the
 * playback time, appearing for the other user when their playback reaches them; clicking one
 * seeks there; who is watching; and a rejoin after a lost connection sends `last_seen_id` and
 * fetches only the annotation it missed, with nothing shown twice.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { CHROMIUM, countOf, eventually, skipWithoutChromium, startHarness, textOf, type Harness } from "./harness.js";

let h: Harness | undefined;
before(async () => { if (existsSync(CHROMIUM)) h = await startHarness(); });
after(async () => { await h?.close(); });

/** The current time of the page's `<video>`, in seconds. */
const currentTime = "document.querySelector('video').currentTime";

test("videos: add form, YouTube offline message, annotations at their time, click to seek, who is watching, rejoin with last_seen_id", { timeout: 120_000 }, async (t) => {
  if (skipWithoutChromium(t) || h === undefined) return;
  const harness = h;
  const alice = await harness.signUp("alice");
  const bob = await harness.signUp("bob");

  // the list, with the sample video
  await alice.page.goto(`${harness.url}/videos`);
  const sample = alice.page.locator("#videos .video-card", { hasText: "Sample: counting to twenty" });
  await sample.waitFor();

  // the add form: clear errors, then a YouTube video whose title is rendered as text
  const form = alice.page.locator("#add-video");
  await form.getByRole("button", { name: "Add video" }).click();
  await textOf(form.locator(".form-status.error"), "Give the video a title.");
  await alice.page.getByLabel("Title").fill("<i>Standup</i> recap");
  await alice.page.getByLabel("Link").fill("javascript:alert(1)");
  await form.getByRole("button", { name: "Add video" }).click();
  await textOf(form.locator(".form-status.error"), "not a YouTube video link or a direct http(s) video URL");
  await alice.page.getByLabel("Link").fill("https://www.youtube.com/watch?v=dQw4w9WgXcQ");
  await form.getByRole("button", { name: "Add video" }).click();
  await textOf(form.locator(".form-status.ok"), "Added “<i>Standup</i> recap”.");
  const added = alice.page.locator("#videos .video-card").first();
  await textOf(added, "<i>Standup</i> recap");
  await textOf(added.locator(".tag"), "YouTube");
  assert.equal(await alice.page.locator("#videos i").count(), 0, "the title's markup is text");
  await harness.screenshot(alice.page, "videos");

  // a YouTube video loads YouTube's API lazily; offline it cannot, and the page says so
  let youtubeRequests = 0;
  await alice.page.route(/youtube\.com/, async (route) => {
    youtubeRequests += 1;
    await route.abort("internetdisconnected");
  });
  await added.locator("a").click();
  await textOf(alice.page.locator(".notice-error"), "The YouTube player could not be loaded");
  assert.ok(youtubeRequests >= 1, "the YouTube iframe API was requested only when the video was opened");
  assert.equal(await alice.page.locator("#annotation-input").isDisabled(), true, "no posting without a player");
  await alice.page.unroute(/youtube\.com/);

  // the sample video: alice seeks to 1.5 s and posts an annotation there
  await alice.page.goto(`${harness.url}/videos/1`);
  await bob.page.goto(`${harness.url}/videos/1`);
  const aliceInput = alice.page.locator("#annotation-input");
  await eventually(() => aliceInput.isEnabled(), 8000, "alice's player to be ready");
  await eventually(() => bob.page.locator("#annotation-input").isEnabled(), 8000, "bob's player to be ready");

  // who is watching, both ways
  await alice.page.locator('#watchers [data-user="bob"]').waitFor();
  await bob.page.locator('#watchers [data-user="alice"]').waitFor();

  await alice.page.evaluate(`${currentTime} = 1.5`);
  await textOf(alice.page.locator("#annotation-at"), "0:01");
  const note = `The counter reads one <script>window.__pwned = 1</script>`;
  await aliceInput.fill(note);
  await aliceInput.press("Enter");
  const aliceNote = alice.page.locator("#annotations .annotation", { hasText: "The counter reads one" });
  await aliceNote.waitFor({ state: "visible" });
  assert.equal(await aliceNote.getAttribute("data-at"), "1500", "posted at the current playback time");
  await textOf(aliceNote.locator(".at-badge"), "0:01");

  // bob got it, but it waits for his playback to reach 1.5 s
  const bobNote = bob.page.locator("#annotations .annotation", { hasText: "The counter reads one" });
  await bobNote.waitFor({ state: "attached" });
  assert.equal(await bobNote.isVisible(), false, "not shown before playback reaches it");
  await textOf(bob.page.locator("#annotations-upcoming"), "1 more annotation later in the video");
  await bob.page.evaluate(`(() => { const video = document.querySelector('video'); video.muted = true; return video.play(); })()`);
  await bobNote.waitFor({ state: "visible", timeout: 10_000 });
  const reachedAt = await bob.page.evaluate<number>(currentTime);
  assert.ok(reachedAt >= 1.5 && reachedAt < 3, `shown when playback reached 1.5 s (at ${reachedAt} s)`);
  await textOf(bobNote, note);
  assert.equal(await bob.page.locator("#annotations script").count(), 0, "the annotation's markup is text");
  assert.equal(await bob.page.evaluate("window.__pwned"), undefined);

  // clicking it seeks there
  await bob.page.evaluate(`(() => { const video = document.querySelector('video'); video.pause(); video.currentTime = 8; })()`);
  await eventually(async () => (await bob.page.evaluate<number>(currentTime)) === 8, 5000, "bob's video at 8 s");
  await bobNote.locator(".annotation-seek").click();
  await eventually(async () => Math.abs((await bob.page.evaluate<number>(currentTime)) - 1.5) < 0.01, 5000, "bob's video seeked to 1.5 s");

  // bob posts at 1 s; alice (at 1.5 s) sees it at once
  await bob.page.evaluate(`${currentTime} = 1`);
  await textOf(bob.page.locator("#annotation-at"), "0:01");
  await bob.page.locator("#annotation-input").fill("Bob was here first");
  await bob.page.locator("#annotation-input").press("Enter");
  await alice.page.locator("#annotations .annotation", { hasText: "Bob was here first" }).waitFor({ state: "visible" });
  await countOf(alice.page.locator("#annotations .annotation"), 2);
  await alice.page.evaluate(`${currentTime} = 4`);
  await textOf(alice.page.locator("#annotation-at"), "0:04");
  await harness.screenshot(alice.page, "video");

  // a lost connection: while bob is away, alice annotates; bob's rejoin sends last_seen_id and gets only that one
  const bobIds = async (): Promise<number[]> =>
    bob.page.evaluate<number[]>(`[...document.querySelectorAll("#annotations .annotation")].map((item) => Number(item.dataset.id))`);
  const seen = await bobIds();
  assert.equal(seen.length, 2);
  const lastSeen = Math.max(...seen);
  const sent: string[] = [];
  const received: string[] = [];
  bob.page.on("websocket", (ws) => {
    ws.on("framesent", (frame) => { if (typeof frame.payload === "string") sent.push(frame.payload); });
    ws.on("framereceived", (frame) => { if (typeof frame.payload === "string") received.push(frame.payload); });
  });
  await harness.app.disconnectUser(await bob.id());
  const missed = await harness.app.store.addAnnotation(1, { id: await alice.id(), username: "alice" }, "Posted while bob was away", 800);
  assert.ok(missed !== undefined);
  harness.app.endpoint.broadcast("videos:1", "new_annotation", missed);

  const join = await eventually(() => sent.map((f) => JSON.parse(f) as unknown[]).find((m) => m[2] === "videos:1" && m[3] === "phx_join"),
    10_000, "bob's rejoin of videos:1");
  assert.equal((join[4] as { last_seen_id?: number }).last_seen_id, lastSeen, "the rejoin carries last_seen_id");
  const reply = await eventually(() => received.map((f) => JSON.parse(f) as unknown[])
    .find((m) => m[2] === "videos:1" && m[3] === "phx_reply" && m[1] === join[1]), 5000, "the rejoin's reply");
  assert.deepEqual((reply[4] as { status: string; response: { annotations: Array<{ id: number }> } }).response.annotations.map((a) => a.id),
    [missed.id], "only the missed annotation is fetched");
  await bob.page.locator("#annotations .annotation", { hasText: "Posted while bob was away" }).waitFor({ state: "visible" });
  const afterIds = await bobIds();
  assert.equal(afterIds.length, 3);
  assert.equal(new Set(afterIds).size, 3, "no annotation is shown twice");
  // bob is at 1 s: alice's note at 1.5 s is still to come
  await textOf(bob.page.locator("#annotations-upcoming"), "1 more annotation later in the video");

  harness.assertNoPageErrors();
});
