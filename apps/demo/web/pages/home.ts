/**
 * The home page. Signed out (any page's visitors land here, with `pageData.next`): sign in or
 * create an account. Signed in: the four apps, with quick ways into a retro room or a party,
 * and the rooms and parties this browser opened lately, each with "copy invite link".
 */
import { api, errorMessage, safeNext } from "../lib/api.js";
import { FormStatus, field, focusOnDesktop, goForm, h, mainArea, pageHead, type Child } from "../lib/dom.js";
import { pageString } from "../lib/globals.js";
import { icon, type IconName } from "../lib/icons.js";
import { copyInvite, placePath, recentPlaces, rememberPlace, type RecentPlace } from "../lib/recent.js";
import { startShell } from "../lib/shell.js";

const main = mainArea();
const shell = startShell();
if (shell === null) renderSignIn();
else renderDashboard(shell.user.username);

function renderSignIn(): void {
  const next = safeNext(pageString("next"));
  document.body.classList.add("signed-out");
  let mode: "in" | "up" = "in";

  const status = new FormStatus();
  const username = h("input", {
    id: "auth-username", name: "username", type: "text", required: true, maxlength: 32, autocomplete: "username",
    autocapitalize: "none", spellcheck: "false", pattern: "[A-Za-z0-9_\\-]{1,32}",
  });
  const password = h("input", { id: "auth-password", name: "password", type: "password", required: true, minlength: 8, autocomplete: "current-password" });
  const submit = h("button", { class: "button primary wide", type: "submit", id: "auth-submit" }, "Sign in");
  const tabIn = h("button", { type: "button", role: "tab", id: "tab-sign-in", "aria-selected": "true", class: "tab" }, "Sign in");
  const tabUp = h("button", { type: "button", role: "tab", id: "tab-sign-up", "aria-selected": "false", class: "tab" }, "Create account");
  const title = h("h2", { id: "auth-title" }, "Welcome back");
  const form = h("form", { class: "auth-form", "aria-labelledby": "auth-title", novalidate: true },
    title,
    field("Username", username, "Letters, digits, _ or -, up to 32."),
    field("Password", password, "At least 8 characters."),
    status.element,
    submit);

  const setMode = (next: "in" | "up"): void => {
    mode = next;
    tabIn.setAttribute("aria-selected", String(mode === "in"));
    tabUp.setAttribute("aria-selected", String(mode === "up"));
    title.textContent = mode === "in" ? "Welcome back" : "Create your account";
    submit.textContent = mode === "in" ? "Sign in" : "Create account";
    password.autocomplete = mode === "in" ? "current-password" : "new-password";
    status.clear();
  };
  tabIn.addEventListener("click", () => setMode("in"));
  tabUp.addEventListener("click", () => setMode("up"));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.clear();
    const credentials = { username: username.value.trim(), password: password.value };
    if (credentials.username === "") return status.error("Enter a username.");
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(credentials.username)) return status.error("A username is 1–32 letters, digits, _ or -.");
    if (credentials.password.length < 8) return status.error("A password has at least 8 characters.");
    submit.disabled = true;
    submit.textContent = mode === "in" ? "Signing in…" : "Creating account…";
    try {
      await api("POST", mode === "in" ? "/api/session" : "/api/users", credentials);
      status.ok(mode === "in" ? "Signed in. Taking you there…" : "Account created. Taking you there…");
      location.assign(next);
    } catch (error) {
      status.error(errorMessage(error));
      submit.disabled = false;
      submit.textContent = mode === "in" ? "Sign in" : "Create account";
    }
  });

  main.append(h("div", { class: "auth-layout" },
    h("section", { class: "hero" },
      h("p", { class: "eyebrow" }, "Real-time, together"),
      h("h1", null, "Rooms, annotations and planning poker that update live."),
      h("p", { class: "lead" }, "Cinder brings four small real-time apps: retro rooms with who's here, video annotations in sync with playback, a pointing party for estimates, and announcements from the team."),
      next === "/" ? null : h("p", { class: "notice notice-info" }, "Sign in to continue to ", h("code", null, next), "."),
      h("ul", { class: "feature-list" },
        feature("chat", "Retro rooms", "See who's in the room and share how the week felt."),
        feature("video", "Video notes", "Comments appear as playback reaches them."),
        feature("cards", "Pointing party", "Vote on cards; votes stay hidden until everyone's in."))),
    h("section", { class: "card auth-card" },
      h("div", { class: "tabs", role: "tablist", "aria-label": "Sign in or create an account" }, tabIn, tabUp),
      form)));
  focusOnDesktop(username);
}

function feature(name: IconName, title: string, text: string): HTMLElement {
  return h("li", null, h("span", { class: "feature-icon", "aria-hidden": "true" }, icon(name)),
    h("div", null, h("strong", null, title), h("span", null, text)));
}

function renderDashboard(username: string): void {
  const tile = (name: IconName, title: string, text: string, body: Child, href?: string): HTMLElement =>
    h("article", { class: "card app-tile" },
      h("div", { class: "tile-head" }, h("span", { class: "tile-icon", "aria-hidden": "true" }, icon(name)),
        href === undefined ? h("h2", null, title) : h("h2", null, h("a", { href }, title))),
      h("p", { class: "muted" }, text),
      body);

  main.append(
    pageHead("Home", `Hi, ${username}`, "Pick an app. Everything updates live, for everyone in the room."),
    h("div", { class: "tiles" },
      tile("chat", "Retro rooms", "A room per retrospective: who's here (and since when), and the messages as they come.",
        goForm("retro", "Room name", "lobby", (name) => `/retro/${encodeURIComponent(name)}`, "Join room"), "/retro/lobby"),
      tile("video", "Video annotations", "Watch a video and leave notes at the moment they matter; they replay in sync with the video.",
        h("a", { class: "button", href: "/videos" }, "Browse videos"), "/videos"),
      tile("cards", "Pointing party", "Planning poker: everybody votes, nobody sees the votes until the last one is in.",
        goForm("party", "Party name", "team", (name) => { rememberPlace("party", name); return `/party/${encodeURIComponent(name)}`; }, "Join party"), "/party/team"),
      window.isAdmin
        ? tile("shield", "Admin", "Announce something to everyone, send someone a note, or disconnect a session.",
          h("a", { class: "button", href: "/admin" }, "Open the back office"), "/admin")
        : null),
    recentList(recentPlaces()));
}

/** The rooms and parties opened lately in this browser, with their invite links. */
function recentList(places: RecentPlace[]): HTMLElement {
  const label = { retro: "Retro room", party: "Pointing party" } as const;
  return h("section", { class: "panel recent", "aria-labelledby": "recent-title" },
    h("h2", { class: "panel-title", id: "recent-title" }, "Recent rooms and parties"),
    h("ul", { id: "recent", class: "recent-list" },
      places.length === 0
        ? h("li", { class: "empty" }, "Rooms and parties you open show up here, with a link to invite others.")
        : places.map((place) => {
          const copy = h("button", { class: "button small ghost copy-invite", type: "button" }, "Copy invite link");
          copy.addEventListener("click", () => void copyInvite(place));
          return h("li", { class: "recent-item", dataset: { kind: place.kind, name: place.name } },
            h("span", { class: "tag" }, label[place.kind]),
            h("a", { href: placePath(place) }, place.name),
            copy);
        })));
}
