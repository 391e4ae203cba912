/**
 * A video with its annotations (`videos:<id>`). Annotations appear beside the player when
 * playback reaches their `at`; clicking one seeks there; the text box posts at the current
 * playback time; presence shows who is watching. The join params are a function returning
 * `{last_seen_id}`, so a rejoin after a lost connection fetches only what was missed (and
 * annotations are kept by id, so none is ever shown twice).
 */
import { Presence, type IncomingPayload } from "@cinder/client";
import { api, ApiError, errorMessage } from "../lib/api.js";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
import { Outbox } from "../lib/outbox.js";
import type { VideoRoom } from "../lib/contracts.js";
import { avatar, FormStatus, h, mainArea, notice, pageHead, playbackTime, plural, replace } from "../lib/dom.js";
import { pageNumber } from "../lib/globals.js";
import { person, sortPeople } from "../lib/people.js";
import { createPlayer } from "../lib/player.js";
import { startShell, type Shell } from "../lib/shell.js";

interface Video {
  id: number;
  title: string;
  url: string;
}

/** An annotation (or a reply, with `parent_id`) as the channel sends it. */
type Annotation = IncomingPayload<VideoRoom, "new_annotation">;

const main = mainArea();
const shell = startShell();
const videoId = pageNumber("id");

if (shell !== null) void start(shell);

async function start(shell: Shell): Promise<void> {
  const back = h("a", { class: "button ghost", href: "/videos" }, "← All videos");
  if (videoId === undefined || !Number.isSafeInteger(videoId) || videoId <= 0) {
    main.append(pageHead("Video", "Video not found"), notice("error", "There is no such video.", back));
    return;
  }
  let video: Video | undefined;
  try {
    video = await api<Video>("GET", `/api/videos/${videoId}`);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) {
      main.append(pageHead("Video", "Could not load the video"), notice("error", errorMessage(error), back));
      return;
    }
  }
  if (video === undefined) {
    main.append(pageHead("Video", "Video not found"), notice("error", "This video does not exist (any more).", back));
    return;
  }
  document.title = `${video.title} · Videos · Cinder`;
  watch(shell, video, back);
}

function watch(shell: Shell, video: Video, back: HTMLElement): void {
  const me = shell.user.username;
  const player = createPlayer(video.url, video.title);
  const playerNotice = h("div", { class: "player-notice-slot" });
  const banner = h("div", { class: "banner-slot" });

  const list = h("ol", { id: "annotations", class: "annotations", "aria-label": "Annotations", "aria-live": "polite" });
  const waiting = h("li", { class: "empty", id: "annotations-empty" }, "Annotations appear here as the video reaches them.");
  const upcoming = h("p", { class: "muted small", id: "annotations-upcoming" });
  const watchers = h("ul", { id: "watchers", class: "chips", "aria-label": "Watching now" });
  const watcherCount = h("span", { class: "count" });
  const staleNote = h("p", { class: "stale-note muted small", id: "watchers-stale", hidden: true }, "Reconnecting: this list may be out of date.");
  const annotationCount = h("span", { class: "count", id: "annotation-count" });

  const input = h("input", {
    id: "annotation-input", class: "grow", type: "text", maxlength: 500, autocomplete: "off",
    placeholder: "Add a note at this moment… (Enter to post)", "aria-label": "Annotation",
  });
  const at = h("span", { class: "at-badge", id: "annotation-at", title: "Your note is posted at this playback time" }, "0:00");
  const post = h("button", { class: "button primary", type: "submit" }, "Post");
  const status = new FormStatus();
  const composer = h("form", { id: "annotation-form", class: "composer" }, at, input, post);
  input.disabled = true;
  post.disabled = true;

  main.append(
    pageHead("Video", video.title, null, back),
    banner,
    h("div", { class: "layout video-layout" },
      h("section", { class: "player-column", "aria-label": "Player" },
        player.element,
        playerNotice,
        h("div", { class: "panel composer-panel" }, composer, status.element)),
      h("aside", { class: "stack side video-side" },
        h("section", { class: "panel watchers-panel", id: "watchers-panel" },
          h("h2", { class: "panel-title" }, "Watching now ", watcherCount), staleNote, watchers),
        h("section", { class: "panel annotations-panel" },
          h("h2", { class: "panel-title" }, "Annotations ", annotationCount),
          h("p", { class: "muted small panel-hint" }, "Notes show up as playback reaches them. Click one to jump to its moment."),
          list, upcoming))));
  list.append(waiting);

  player.ready.then(() => {
    playing = true;
    input.disabled = false;
    post.disabled = false;
    tick();
  }, (error: unknown) => {
    replace(playerNotice, notice("error", "The player is not available", errorMessage(error)));
    player.element.classList.add("unavailable");
    status.error("Notes are posted at a playback time, so posting needs the player.");
  });

  // annotations by id, each with its element; shown once playback reaches `at`
  const annotations = new Map<number, { annotation: Annotation; element: HTMLLIElement }>();
  let lastSeenId = 0;
  let since = 0;

  // every annotation by id; top-level ones have a thread element (replies are shown in their parent's)
  const all = new Map<number, Annotation>();
  let editing: number | undefined;
  let replyingTo: number | undefined;

  const inlineForm = (id: string, label: string, initial: string, save: (body: string) => void): HTMLFormElement => {
    const field = h("input", { id, class: "grow", type: "text", maxlength: 500, value: initial, "aria-label": label, autocomplete: "off" });
    const form = h("form", { class: "idea-form inline-edit" }, field,
      h("button", { class: "button small primary", type: "submit" }, "Save"),
      h("button", { class: "button small ghost", type: "button", onclick: () => { editing = undefined; replyingTo = undefined; refreshAll(); } }, "Cancel"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = field.value.trim();
      editing = undefined;
      replyingTo = undefined;
      if (body !== "") save(body);
      refreshAll();
    });
    queueMicrotask(() => field.focus());
    return form;
  };
  const pushed = (what: string) => (push: { receive(status: string, cb: (r: unknown) => void): unknown }): void => {
    push.receive("error", (response) => status.error(replyError(response, `${what} failed.`)));
    push.receive("timeout", () => status.error(TIMEOUT_MESSAGE));
  };
  const ownControls = (a: Annotation): Node | null => a.user.username !== me ? null : h("span", { class: "annotation-controls" },
    h("button", { class: "button small ghost annotation-edit", type: "button", onclick: () => { editing = a.id; refreshAll(); } }, "Edit"),
    h("button", { class: "button small ghost danger annotation-delete", type: "button",
      onclick: () => pushed("Deleting")(channel.push("delete_annotation", { id: a.id })) }, "Delete"));
  const bodyOf = (a: Annotation): Node => editing === a.id
    ? inlineForm(`annotation-edit-${a.id}`, "Edit annotation", a.body, (body) => pushed("Saving")(channel.push("edit_annotation", { id: a.id, body })))
    : h("span", { class: "annotation-body" }, a.body, a.edited ? h("span", { class: "muted small" }, " (edited)") : null);

  const fill = (item: HTMLLIElement, a: Annotation): void => {
    const replies = [...all.values()].filter((r) => r.parent_id === a.id).sort((x, y) => x.id - y.id);
    const seek = h("button", { type: "button", class: "annotation-seek", title: `Jump to ${playbackTime(a.at)}`, "aria-label": `Jump to ${playbackTime(a.at)}: ${a.body}` },
      h("span", { class: "at-badge" }, playbackTime(a.at)),
      h("span", { class: "annotation-main" },
        h("span", { class: "annotation-user" }, avatar(a.user.username, "sm"), a.user.username),
        editing === a.id ? null : bodyOf(a)));
    seek.addEventListener("click", () => {
      player.seek(a.at);
      tick();
    });
    replace(item, seek,
      editing === a.id ? bodyOf(a) : null,
      h("div", { class: "annotation-actions" },
        h("button", { class: "button small ghost annotation-reply", type: "button", onclick: () => { replyingTo = a.id; refreshAll(); } }, "Reply"),
        ownControls(a)),
      replies.length === 0 ? null : h("ul", { class: "replies", "aria-label": "Replies" },
        replies.map((r) => h("li", { class: `reply${r.user.username === me ? " mine" : ""}`, dataset: { id: String(r.id) } },
          h("span", { class: "annotation-user" }, avatar(r.user.username, "sm"), r.user.username), " ", bodyOf(r), ownControls(r)))),
      replyingTo === a.id
        ? inlineForm(`reply-input-${a.id}`, "Reply", "", (body) => pushed("Replying")(channel.push("new_annotation", { body, at: a.at, parent_id: a.id })))
        : null);
  };
  const refreshAll = (): void => {
    for (const { annotation, element: item } of annotations.values()) fill(item, annotation);
    drawMarkers();
  };

  const element = (a: Annotation): HTMLLIElement => {
    const item = h("li", { class: `annotation${a.user.username === me ? " mine" : ""}`, dataset: { id: String(a.id), at: String(a.at) }, hidden: true });
    fill(item, a);
    return item;
  };

  // a marker on the timeline for every annotation (click: seek there)
  const markers = h("div", { id: "markers", class: "markers", "aria-label": "Annotations on the timeline" });
  const drawMarkers = (): void => {
    const duration = player.durationMs();
    const tops = [...annotations.values()].map(({ annotation }) => annotation);
    replace(markers, duration <= 0 ? null : tops.map((a) => h("button", {
      type: "button", class: "marker", style: `left: ${Math.min(100, (a.at / duration) * 100).toFixed(2)}%`,
      title: `${playbackTime(a.at)} · ${a.user.username}: ${a.body}`, "aria-label": `Jump to ${playbackTime(a.at)}: ${a.body}`,
      dataset: { id: String(a.id) }, onclick: () => { player.seek(a.at); tick(); },
    })));
  };
  player.element.after(markers);
  player.ready.then(drawMarkers, () => undefined);

  const addAnnotation = (a: Annotation): void => {
    lastSeenId = Math.max(lastSeenId, a.id);
    const known = all.has(a.id);
    all.set(a.id, a);
    if (a.parent_id !== null) {
      const parent = annotations.get(a.parent_id);
      if (parent !== undefined) fill(parent.element, parent.annotation);
      return;
    }
    const shown = annotations.get(a.id);
    if (known && shown !== undefined) {
      shown.annotation = a;
      fill(shown.element, a);
      drawMarkers();
      return;
    }
    const item = element(a);
    // keep (at, id) order
    const later = [...annotations.values()]
      .filter(({ annotation: b }) => b.at > a.at || (b.at === a.at && b.id > a.id))
      .sort((x, y) => x.annotation.at - y.annotation.at || x.annotation.id - y.annotation.id)[0];
    if (later === undefined) list.append(item);
    else list.insertBefore(item, later.element);
    annotations.set(a.id, { annotation: a, element: item });
    // replies that arrived before their parent's element existed
    fill(item, a);
    drawMarkers();
  };
  const removeAnnotations = (ids: readonly number[]): void => {
    for (const id of ids) {
      all.delete(id);
      annotations.get(id)?.element.remove();
      annotations.delete(id);
    }
    refreshAll();
  };

  let playing = false;
  const tick = (): void => {
    const now = playing ? player.currentMs() : 0;
    let shown = 0;
    let newest: HTMLLIElement | undefined;
    let current: { at: number; id: number; item: HTMLLIElement } | undefined;
    for (const { annotation, element: item } of annotations.values()) {
      const visible = annotation.at <= now;
      if (visible) {
        shown += 1;
        if (current === undefined || annotation.at > current.at || (annotation.at === current.at && annotation.id > current.id)) {
          current = { at: annotation.at, id: annotation.id, item };
        }
      }
      if (item.hidden === visible) {
        item.hidden = !visible;
        if (visible) newest = item;
      }
    }
    for (const { element: item } of annotations.values()) item.classList.toggle("current", item === current?.item);
    waiting.hidden = shown > 0;
    annotationCount.textContent = annotations.size === 0 ? "" : String(shown);
    const later = annotations.size - shown;
    upcoming.textContent = later > 0 ? `${plural(later, "more annotation")} later in the video` : "";
    if (newest !== undefined) reveal(list, newest);
    at.textContent = playbackTime(now);
  };
  player.onTimeChange(tick);
  setInterval(tick, 250);

  // tell the others where this watcher is: on a change, at most once a second (the server bounds it too)
  let reported = { at: -1, playing: false };
  let reportedAt = 0;
  const report = (): void => {
    if (!playing || !channel.canPush()) return;
    const position = { at: Math.max(0, Math.min(24 * 3600 * 1000, player.currentMs())), playing: player.isPlaying() };
    const moved = position.playing !== reported.playing || Math.abs(position.at - reported.at) >= 1000 || (!position.playing && position.at !== reported.at);
    if (!moved || Date.now() - reportedAt < 1000) return;
    reported = position;
    reportedAt = Date.now();
    channel.push("position", position);
  };
  setInterval(report, 250);

  const channel = shell.socket.channel<VideoRoom>(`videos:${video.id}`, () => (since > 0 ? { last_seen_id: lastSeenId, since } : { last_seen_id: lastSeenId }));
  channel.on("new_annotation", (a) => {
    addAnnotation(a);
    tick();
  });
  channel.on("annotation_updated", (a) => {
    addAnnotation(a);
    tick();
  });
  channel.on("annotation_deleted", ({ ids }) => {
    removeAnnotations(ids);
    tick();
  });
  const presence = new Presence(channel);
  presence.onSync(() => {
    const present = sortPeople(presence.list((key, entry) => person(key, entry, (k, e) => {
      const user = e.user as { username?: unknown } | undefined;
      return typeof user?.username === "string" ? user.username : `user ${k}`;
    })), me);
    watcherCount.textContent = String(present.length);
    replace(watchers, present.map((p) => {
      // where they are: the most recently reported of their tabs
      const latest = [...p.metas].sort((a, b) => Number(b.reported_at ?? 0) - Number(a.reported_at ?? 0))[0];
      const where = typeof latest?.at === "number"
        ? h("span", { class: `watcher-at${latest.playing === true ? " playing" : ""}`, title: `Where ${p.name} is in the video` },
          `at ${playbackTime(latest.at)}`, latest.playing === true ? " · playing" : " · paused")
        : null;
      return h("li", { class: "chip", dataset: { user: p.name } },
        avatar(p.name, "sm"), p.name, p.name === me ? h("span", { class: "you" }, " (you)") : null, where,
        p.tabs > 1 ? h("span", { class: "badge" }, plural(p.tabs, "tab")) : null);
    }));
  });
  const outbox = new Outbox(() => channel.canPush());
  // while disconnected the list may be out of date: say so until the channel is joined again
  const markStale = (stale: boolean): void => {
    document.getElementById("watchers-panel")?.classList.toggle("stale", stale);
    staleNote.hidden = !stale;
  };
  shell.onState((state) => { if (state === "disconnected") markStale(true); });
  channel.onError(() => markStale(true));
  channel.join()
    .receive("ok", (response) => {
      replace(banner);
      markStale(false);
      // `{annotations, changed, deleted, now}` (see src/channels/videos.ts; joins are not typed by the contract)
      const reply = response as { annotations: Annotation[]; changed?: Annotation[]; deleted?: number[]; now: number };
      for (const a of [...reply.annotations, ...(reply.changed ?? [])].sort((x, y) => x.id - y.id)) addAnnotation(a);
      if (reply.deleted !== undefined && reply.deleted.length > 0) removeAnnotations(reply.deleted);
      since = reply.now;
      tick();
      outbox.flush();
    })
    .receive("error", (response) => {
      const retry = h("button", { class: "button small", type: "button", id: "retry-join", onclick: () => channel.rejoin() }, "Try again");
      replace(banner, notice("error", "Could not open this video's annotations", [replyError(response), " ", retry]));
    });

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body === "") {
      status.error("Type a note first.");
      return;
    }
    status.clear();
    input.value = "";
    const at = Math.max(0, player.currentMs());
    // offline, the note waits (and says so) and is posted once the channel is joined again
    if (!channel.canPush()) status.ok(`Offline: your note at ${playbackTime(at)} will be posted when the connection is back…`);
    outbox.submit({
      send: () => channel.push("new_annotation", { body, at }),
      sent: () => status.clear(),
      failed: (message) => {
        status.error(`The note was not posted: ${message}`);
        if (input.value === "") input.value = body;
      },
    });
  });
}


/** Scrolls `list` (a positioned scroll container) just enough to show `item`, without moving the page. */
function reveal(list: HTMLElement, item: HTMLElement): void {
  const top = item.offsetTop;
  const bottom = top + item.offsetHeight;
  if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
  else if (top < list.scrollTop) list.scrollTop = top;
}
