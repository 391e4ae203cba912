/**
 * A retro room (`room:<name>`): who is here (since when, how many tabs), and the messages with
 * local-time timestamps; Enter sends; the list keeps scrolled to the newest. A rejoin after a
 * lost connection gets the last messages again: they are merged by id, so nothing duplicates.
 */
import { Presence } from "@cinder/client";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
import { avatar, FormStatus, focusOnDesktop, goForm, h, mainArea, notice, pageHead, replace, timeElement } from "../lib/dom.js";
import { pageString } from "../lib/globals.js";
import { person, personRow, sortPeople } from "../lib/people.js";
import { startShell } from "../lib/shell.js";

/** A message as the channel sends it. */
interface Message {
  id: number;
  user: string;
  body: string;
  inserted_at: number;
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Record<string, unknown>;
  return typeof m.id === "number" && typeof m.user === "string" && typeof m.body === "string" && typeof m.inserted_at === "number";
}

const main = mainArea();
const shell = startShell();
const room = pageString("room") ?? "lobby";

if (shell !== null) {
  const me = shell.user.username;
  document.title = `${room} · Retro · Cinder`;

  const list = h("ol", { id: "messages", class: "messages", "aria-label": "Messages", "aria-live": "polite" });
  const empty = h("li", { class: "empty" }, "No messages yet. How did this week feel?");
  list.append(empty);
  const input = h("input", {
    id: "message-input", class: "grow", type: "text", maxlength: 2000, autocomplete: "off",
    placeholder: "Share how the week felt… (Enter to send)", "aria-label": "Message",
  });
  const send = h("button", { class: "button primary", type: "submit" }, "Send");
  const status = new FormStatus();
  const composer = h("form", { class: "composer", id: "composer" }, input, send);
  const people = h("ul", { id: "presence", class: "people", "aria-label": "People in this room" });
  const peopleCount = h("span", { class: "count", id: "presence-count" });
  const banner = h("div", { class: "banner-slot" });

  main.append(
    pageHead("Retro room", room, "Messages and presence update live for everyone in the room.",
      goForm("retro", "Go to another room", "another-room", (name) => `/retro/${encodeURIComponent(name)}`, "Switch")),
    banner,
    h("div", { class: "layout" },
      h("section", { class: "panel chat", "aria-label": "Chat" }, list, h("div", { class: "composer-wrap" }, composer, status.element)),
      h("aside", { class: "panel side" },
        h("h2", { class: "panel-title" }, "Here now ", peopleCount),
        people)));

  const seen = new Map<number, HTMLLIElement>();
  const scrollToNewest = (): void => { list.scrollTop = list.scrollHeight; };
  const addMessage = (message: Message): void => {
    if (seen.has(message.id)) return;
    empty.remove();
    const mine = message.user === me;
    const item = h("li", { class: `message${mine ? " mine" : ""}`, dataset: { id: String(message.id) } },
      avatar(message.user),
      h("div", { class: "message-main" },
        h("div", { class: "message-head" },
          h("span", { class: "message-user" }, message.user),
          timeElement(message.inserted_at)),
        h("p", { class: "message-body" }, message.body)));
    // keep id order (messages may arrive out of order around a rejoin)
    const after = [...seen.entries()].filter(([id]) => id > message.id).sort(([a], [b]) => a - b)[0];
    if (after === undefined) list.append(item);
    else list.insertBefore(item, after[1]);
    seen.set(message.id, item);
    scrollToNewest();
  };

  const channel = shell.socket.channel(`room:${room}`);
  const presence = new Presence(channel);
  presence.onSync(() => {
    const present = sortPeople(presence.list((key, entry) => person(key, entry)), me);
    peopleCount.textContent = String(present.length);
    replace(people, present.length === 0
      ? h("li", { class: "empty" }, "Nobody here yet.")
      : present.map((p) => personRow(p, me)));
  });
  channel.on("message:new", (payload) => {
    if (isMessage(payload)) addMessage(payload);
  });
  channel.join()
    .receive("ok", (response) => {
      replace(banner);
      const messages = (response as { messages?: unknown }).messages;
      if (Array.isArray(messages)) for (const message of messages) if (isMessage(message)) addMessage(message);
      scrollToNewest();
    })
    .receive("error", (response) => {
      replace(banner, notice("error", "Could not join this room", replyError(response)));
    });

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body === "") {
      status.error("Type a message first.");
      return;
    }
    status.clear();
    input.value = "";
    channel.push("message:new", { body })
      .receive("ok", () => status.clear())
      .receive("error", (response) => {
        status.error(replyError(response, "The message was not sent."));
        if (input.value === "") input.value = body;
      })
      .receive("timeout", () => {
        status.error(TIMEOUT_MESSAGE);
        if (input.value === "") input.value = body;
      });
  });
  focusOnDesktop(input);
}
