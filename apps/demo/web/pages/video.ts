/**
 * A video with its annotations (`videos:<id>`). Annotations appear beside the player when
 * playback reaches their `at`; clicking one seeks there; the text box posts at the current
 * playback time; presence shows who is watching. The join params are a function returning
 * `{last_seen_id}`, so a rejoin after a lost connection fetches only what was missed (and
 * annotations are kept by id, so none is ever shown twice).
 */
import { Presence } from "@cinder/client";
import { api, ApiError, errorMessage } from "../lib/api.js";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
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

interface Annotation {
  id: number;
  body: string;
  at: number;
  user: { id: number; username: string };
}

function isAnnotation(value: unknown): value is Annotation {
  if (typeof value !== "object" || value === null) return false;
  const a = value as Record<string, unknown>;
  const user = a.user as Record<string, unknown> | null | undefined;
  return typeof a.id === "number" && typeof a.body === "string" && typeof a.at === "number"
    && typeof user === "object" && user !== null && typeof user.username === "string";
}

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
        h("section", { class: "panel watchers-panel" }, h("h2", { class: "panel-title" }, "Watching now ", watcherCount), watchers),
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

  const element = (a: Annotation): HTMLLIElement => {
    const item = h("li", { class: `annotation${a.user.username === me ? " mine" : ""}`, dataset: { id: String(a.id), at: String(a.at) }, hidden: true },
      h("button", { type: "button", class: "annotation-seek", title: `Jump to ${playbackTime(a.at)}`, "aria-label": `Jump to ${playbackTime(a.at)}: ${a.body}` },
        h("span", { class: "at-badge" }, playbackTime(a.at)),
        h("span", { class: "annotation-main" },
          h("span", { class: "annotation-user" }, avatar(a.user.username, "sm"), a.user.username),
          h("span", { class: "annotation-body" }, a.body))));
    item.querySelector("button")?.addEventListener("click", () => {
      player.seek(a.at);
      tick();
    });
    return item;
  };

  const addAnnotation = (a: Annotation): void => {
    lastSeenId = Math.max(lastSeenId, a.id);
    if (annotations.has(a.id)) return;
    const item = element(a);
    // keep (at, id) order
    const later = [...annotations.values()]
      .filter(({ annotation: b }) => b.at > a.at || (b.at === a.at && b.id > a.id))
      .sort((x, y) => x.annotation.at - y.annotation.at || x.annotation.id - y.annotation.id)[0];
    if (later === undefined) list.append(item);
    else list.insertBefore(item, later.element);
    annotations.set(a.id, { annotation: a, element: item });
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

  const channel = shell.socket.channel(`videos:${video.id}`, () => ({ last_seen_id: lastSeenId }));
  channel.on("new_annotation", (payload) => {
    if (isAnnotation(payload)) {
      addAnnotation(payload);
      tick();
    }
  });
  const presence = new Presence(channel);
  presence.onSync(() => {
    const present = sortPeople(presence.list((key, entry) => person(key, entry, (k, e) => {
      const user = e.user as { username?: unknown } | undefined;
      return typeof user?.username === "string" ? user.username : `user ${k}`;
    })), me);
    watcherCount.textContent = String(present.length);
    replace(watchers, present.map((p) => h("li", { class: "chip", dataset: { user: p.name } },
      avatar(p.name, "sm"), p.name, p.name === me ? h("span", { class: "you" }, " (you)") : null,
      p.tabs > 1 ? h("span", { class: "badge" }, plural(p.tabs, "tab")) : null)));
  });
  channel.join()
    .receive("ok", (response) => {
      replace(banner);
      const received = (response as { annotations?: unknown }).annotations;
      if (Array.isArray(received)) for (const a of received) if (isAnnotation(a)) addAnnotation(a);
      tick();
    })
    .receive("error", (response) => {
      replace(banner, notice("error", "Could not open this video's annotations", replyError(response)));
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
    channel.push("new_annotation", { body, at: Math.max(0, player.currentMs()) })
      .receive("error", (response) => {
        status.error(replyError(response, "The note was not posted."));
        if (input.value === "") input.value = body;
      })
      .receive("timeout", () => {
        status.error(TIMEOUT_MESSAGE);
        if (input.value === "") input.value = body;
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
