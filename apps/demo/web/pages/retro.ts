/**
 * A retro room (`room:<name>`): the board (stages, columns of ideas, votes within a budget,
 * action items with owners, export) beside the chat and who is here. Everything comes from the
 * server: each join (first, after a reload, after a lost connection or a server restart)
 * replaces the board with the stored one, and every change arrives as a broadcast. The chat
 * shows the last 50 messages and loads earlier ones when scrolled to the top. The room is a
 * stream topic (`useStream()`): after a lost connection the rejoin replays every message
 * missed, once each; when it cannot (a server restart), the list starts again from the join
 * reply's last 50 (earlier ones load on scroll), so it never has a hole. Messages are shown
 * once per id (the reply and the replay overlap). A message sent while offline stays pending
 * and goes out on reconnect (or is marked failed, with a retry).
 */
import { Presence, type IncomingPayload } from "@cinder/client";
import { replyError, TIMEOUT_MESSAGE } from "../lib/channels.js";
import type { RetroRoom } from "../lib/contracts.js";
import { avatar, FormStatus, focusOnDesktop, goForm, h, mainArea, notice, pageHead, replace, timeElement } from "../lib/dom.js";
import { pageString } from "../lib/globals.js";
import { Outbox } from "../lib/outbox.js";
import { person, personRow, sortPeople } from "../lib/people.js";
import { copyInvite, rememberPlace } from "../lib/recent.js";
import { renderBoard, type Board, type BoardIntents, type BoardState } from "../lib/retro-board.js";
import { startShell } from "../lib/shell.js";
import { toast } from "../lib/toast.js";

/** A chat message as the channel sends it. */
type Message = IncomingPayload<RetroRoom, "message:new">;

const main = mainArea();
const shell = startShell();
const room = pageString("room") ?? "lobby";

if (shell !== null) {
  const me = shell.user.username;
  document.title = `${room} · Retro · Cinder`;
  rememberPlace("retro", room);

  const list = h("ol", { id: "messages", class: "messages", "aria-label": "Messages", "aria-live": "polite" });
  const empty = h("li", { class: "empty" }, "No messages yet. How did this week feel?");
  const earlier = h("li", { class: "load-earlier", hidden: true },
    h("button", { class: "button ghost small", type: "button", id: "load-earlier" }, "Load earlier messages"));
  list.append(earlier, empty);
  const input = h("input", {
    id: "message-input", class: "grow", type: "text", maxlength: 2000, autocomplete: "off",
    placeholder: "Share how the week felt… (Enter to send)", "aria-label": "Message",
  });
  const send = h("button", { class: "button primary", type: "submit" }, "Send");
  const status = new FormStatus();
  const composer = h("form", { class: "composer", id: "composer" }, input, send);
  const people = h("ul", { id: "presence", class: "people", "aria-label": "People in this room" });
  const notices = h("ul", { id: "presence-notices", class: "plain", "aria-live": "polite", "aria-label": "Who joined and left" });
  const peopleCount = h("span", { class: "count", id: "presence-count" });
  const peoplePanel = h("section", { class: "panel side", id: "people-panel" },
    h("h2", { class: "panel-title" }, "Here now ", peopleCount),
    h("p", { class: "stale-note muted small", id: "presence-stale", hidden: true }, "Reconnecting: this list may be out of date."),
    people,
    notices);
  const banner = h("div", { class: "banner-slot" });
  const boardRoot = h("div", { id: "board", class: "board", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading the board…"));
  const invite = h("button", { class: "button", type: "button", id: "copy-invite" }, "Copy invite link");
  const exportMd = h("button", { class: "button ghost", type: "button", id: "export-markdown" }, "Export Markdown");
  const exportCsv = h("button", { class: "button ghost", type: "button", id: "export-csv" }, "Export CSV");

  main.append(
    pageHead("Retro room", room, "A retrospective for everyone in the room: the facilitator moves the stages for all.",
      [invite, exportMd, exportCsv,
        goForm("retro", "Go to another room", "another-room", (name) => `/retro/${encodeURIComponent(name)}`, "Switch")]),
    banner,
    boardRoot,
    h("div", { class: "layout" },
      h("section", { class: "panel chat", "aria-label": "Chat" }, list, h("div", { class: "composer-wrap" }, composer, status.element)),
      h("aside", { class: "stack side" }, peoplePanel)));

  invite.addEventListener("click", () => void copyInvite({ kind: "retro", name: room }));

  // ---- the chat ----
  const seen = new Map<number, HTMLLIElement>();
  let more = false;
  const atBottom = (): boolean => list.scrollTop + list.clientHeight >= list.scrollHeight - 40;
  const scrollToNewest = (): void => { list.scrollTop = list.scrollHeight; };
  const messageItem = (message: Pick<Message, "user" | "body"> & { inserted_at?: number }, extra?: Node): HTMLLIElement => {
    const mine = message.user === me;
    return h("li", { class: `message${mine ? " mine" : ""}` },
      avatar(message.user),
      h("div", { class: "message-main" },
        h("div", { class: "message-head" },
          h("span", { class: "message-user" }, message.user),
          message.inserted_at === undefined ? null : timeElement(message.inserted_at)),
        h("p", { class: "message-body" }, message.body),
        extra ?? null));
  };
  const firstPending = (): Element | null => list.querySelector(".message.pending, .message.failed");
  const addMessage = (message: Message): void => {
    if (seen.has(message.id)) return;
    empty.remove();
    const item = messageItem(message);
    item.dataset.id = String(message.id);
    // keep id order (messages may arrive out of order around a rejoin or a page of history); pending ones stay last
    const after = [...seen.entries()].filter(([id]) => id > message.id).sort(([a], [b]) => a - b)[0];
    list.insertBefore(item, after?.[1] ?? firstPending());
    seen.set(message.id, item);
  };
  /** Empties the list (pending messages stay) before it starts again from a join reply. */
  const clearMessages = (): void => {
    for (const item of seen.values()) item.remove();
    seen.clear();
  };
  const oldestId = (): number | undefined => (seen.size === 0 ? undefined : Math.min(...seen.keys()));
  let loadingEarlier = false;
  const loadEarlier = (): void => {
    const before = oldestId();
    if (!more || loadingEarlier || before === undefined) return;
    loadingEarlier = true;
    const height = list.scrollHeight;
    const top = list.scrollTop;
    channel.push("history:before", { before_id: before })
      .receive("ok", (page) => {
        loadingEarlier = false;
        for (const message of page.messages) addMessage(message);
        more = page.more;
        earlier.hidden = !more;
        list.scrollTop = top + (list.scrollHeight - height); // keep what was on screen in place
      })
      .receive("error", (response) => { loadingEarlier = false; status.error(replyError(response, "Could not load earlier messages.")); })
      .receive("timeout", () => { loadingEarlier = false; status.error(TIMEOUT_MESSAGE); });
  };
  earlier.querySelector("button")?.addEventListener("click", loadEarlier);
  list.addEventListener("scroll", () => { if (list.scrollTop < 40) loadEarlier(); });

  // ---- the board ----
  let state: BoardState | undefined;
  const failed = (what: string) => (response: unknown): void => {
    toast({ kind: "error", title: what, body: replyError(response), duration: 6000 });
  };
  const render = (): void => {
    if (state === undefined) return;
    boardRoot.removeAttribute("aria-busy");
    renderBoard(boardRoot, state, intents, (id) => {
      if (state !== undefined) state.editing = id;
      render();
    });
  };
  const act = <E extends Parameters<typeof channel.push>[0]>(what: string, push: () => ReturnType<typeof channel.push<E>>): void => {
    push().receive("error", failed(what)).receive("timeout", () => failed(what)({ reason: "timeout" }));
  };
  const intents: BoardIntents = {
    addIdea: (column, body) => act("The idea was not added", () => channel.push("idea:add", { column, body })),
    editIdea: (id, body) => act("The idea was not changed", () => channel.push("idea:edit", { id, body })),
    deleteIdea: (id) => act("The idea was not deleted", () => channel.push("idea:delete", { id })),
    vote: (id, change) => act("The vote did not count", () => channel.push(change === 1 ? "vote:add" : "vote:remove", { idea_id: id })),
    setStage: (stage) => act("The stage did not change", () => channel.push("stage:set", { stage })),
    pass: (to) => act("Facilitation was not handed over", () => channel.push("facilitator:pass", { to })),
    claim: () => act("You could not take over", () => channel.push("facilitator:claim", {})),
    addAction: (body, owner) => act("The action item was not added", () => channel.push("action:add", { body, owner })),
    setOwner: (action, owner) => act("The owner did not change", () => channel.push("action:edit", { id: action.id, body: action.body, owner })),
    deleteAction: (id) => act("The action item was not deleted", () => channel.push("action:delete", { id })),
  };
  const update = (change: (board: Board) => void): void => {
    if (state === undefined) return;
    change(state.board);
    render();
  };
  const upsert = <T extends { id: number }>(items: T[], item: T): void => {
    const index = items.findIndex((i) => i.id === item.id);
    if (index === -1) items.push(item);
    else items[index] = item;
  };

  const exportBoard = (format: "markdown" | "csv"): void => {
    channel.push("board:export", { format })
      .receive("ok", ({ filename, content }) => {
        const link = h("a", { href: URL.createObjectURL(new Blob([content], { type: format === "csv" ? "text/csv" : "text/markdown" })), download: filename });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      })
      .receive("error", failed("The export failed"))
      .receive("timeout", () => failed("The export failed")({ reason: "timeout" }));
  };
  exportMd.addEventListener("click", () => exportBoard("markdown"));
  exportCsv.addEventListener("click", () => exportBoard("csv"));

  // ---- the channel ----
  // a stream topic: rejoins replay what was missed (docs/recovery.md)
  const channel = shell.socket.channel<RetroRoom>(`room:${room}`, {}).useStream();
  const outbox = new Outbox(() => channel.canPush());
  const presence = new Presence(channel);
  let present: string[] = [];
  /** Users reported online whose first meta has not reached this page yet (it follows within a diff window). */
  const arriving = new Set<string>();
  presence.onSync(() => {
    const list = sortPeople(presence.list((key, entry) => person(key, entry)), me);
    present = list.map((p) => p.name);
    // Users online on the server but with no page open right now (a reload, a lost connection
    // within the server's leave grace) stay listed, so the list and its count do not flicker.
    for (const key of present) arriving.delete(key);
    const away = sortPeople(presence.online().filter((key) => key !== me && !present.includes(key) && !arriving.has(key))
      .map((key) => ({ key, name: key, tabs: 0, since: undefined, metas: [] })), me);
    peopleCount.textContent = String(list.length + away.length);
    replace(people, list.length + away.length === 0
      ? h("li", { class: "empty" }, "Nobody here yet.")
      : [...list.map((p) => personRow(p, me)),
        ...away.map((p) => personRow(p, me, h("span", { class: "person-meta muted small", dataset: { away: "" } }, "reconnecting…")))]);
    if (state !== undefined) {
      state.present = present;
      render();
    }
  });
  // "joined" / "left": a user's first page here, and their last one closing (past the grace)
  const noticeLine = (text: string): void => {
    notices.prepend(h("li", { class: "muted small" }, text, " ", timeElement(Date.now())));
    while (notices.children.length > 3) notices.lastElementChild?.remove();
  };
  presence.onOnline((key) => {
    if (!present.includes(key)) arriving.add(key);
    if (key !== me) noticeLine(`${key} joined`);
  });
  presence.onOffline((key) => {
    arriving.delete(key);
    if (key !== me) noticeLine(`${key} left`);
  });
  const markStale = (stale: boolean): void => {
    peoplePanel.classList.toggle("stale", stale);
    peoplePanel.querySelector<HTMLElement>("#presence-stale")!.hidden = !stale;
  };
  shell.onState((next) => { if (next === "disconnected") markStale(true); });
  channel.onError(() => markStale(true));

  channel.on("message:new", (message) => {
    const follow = atBottom();
    addMessage(message);
    if (follow || message.user === me) scrollToNewest();
  });
  channel.on("idea:saved", (idea) => update((board) => upsert(board.ideas, idea)));
  channel.on("idea:deleted", ({ id }) => update((board) => { board.ideas = board.ideas.filter((i) => i.id !== id); }));
  channel.on("action:saved", (action) => update((board) => upsert(board.actions, action)));
  channel.on("action:deleted", ({ id }) => update((board) => { board.actions = board.actions.filter((a) => a.id !== id); }));
  channel.on("board:stage", ({ stage }) => update((board) => { board.stage = stage; }));
  channel.on("board:facilitator", ({ facilitator }) => update((board) => { board.facilitator = facilitator; }));

  channel.join()
    .receive("ok", (response) => {
      // the join reply is `{messages, more, board}` (see src/channels/retro.ts; joins are not typed by the contract)
      const reply = response as { messages: Message[]; more: boolean; board: Board };
      replace(banner);
      markStale(false);
      // Recovered: the replay that follows brings every message missed (what the reply repeats is
      // dropped by id). Otherwise — the first join, or a rejoin the history could not serve (a
      // restart) — the list starts again from the reply, so it never keeps a hole.
      if (channel.recovered !== true) {
        clearMessages();
        more = reply.more;
      }
      earlier.hidden = !more;
      for (const message of reply.messages) addMessage(message);
      scrollToNewest();
      state = { board: reply.board, me, present, editing: state?.editing };
      render();
      outbox.flush();
    })
    .receive("error", (response) => {
      const retry = h("button", { class: "button small", type: "button", id: "retry-join", onclick: () => channel.rejoin() }, "Try again");
      replace(banner, notice("error", "Could not join this room", [replyError(response), " ", retry]));
    });

  // a message goes out now, or waits (shown as pending) until the room is joined again
  const sendMessage = (body: string): void => {
    const label = h("span", { class: "pending-note" }, "Sending…");
    const item = messageItem({ user: me, body }, label);
    item.classList.add("pending");
    empty.remove();
    list.append(item);
    scrollToNewest();
    if (!channel.canPush()) label.textContent = "Waiting for the connection…";
    outbox.submit({
      send: () => channel.push("message:new", { body }),
      sent: () => item.remove(),
      failed: (message) => {
        item.classList.replace("pending", "failed");
        replace(label, `Not sent: ${message} `,
          h("button", { class: "button small", type: "button", onclick: () => { item.remove(); sendMessage(body); } }, "Retry"),
          h("button", { class: "button small ghost", type: "button", onclick: () => item.remove() }, "Discard"));
      },
    });
  };
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (body === "") {
      status.error("Type a message first.");
      return;
    }
    status.clear();
    input.value = "";
    sendMessage(body);
  });
  focusOnDesktop(input);
}
