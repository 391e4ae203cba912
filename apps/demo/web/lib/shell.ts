/**
 * What every signed-in page shares: the socket (token from `window.userToken`), the header's
 * connection state and "N users online, M connections" (from `notifications:all`), toasts for
 * admin broadcasts (`notifications:all`) and personal notes (`notifications:user:<id>`), and
 * sign-out. Pages call `startShell()` first and join their own channels on `shell.socket`.
 */
import { Socket, type Channel } from "@cinder/client";
import { api, ApiError, errorMessage } from "./api.js";
import { h, plural } from "./dom.js";
import { brandMark } from "./icons.js";
import type { NotificationsRoom } from "./contracts.js";
import type { CurrentUser } from "./globals.js";
import { toast } from "./toast.js";

/** The header's connection states. */
export type ConnectionState = "connecting" | "online" | "disconnected";

/** A signed-in page's shared parts. */
export interface Shell {
  socket: Socket;
  user: CurrentUser;
  /** The connection state now. */
  state(): ConnectionState;
  /** Calls `callback` on every connection state change. */
  onState(callback: (state: ConnectionState) => void): void;
  /** The `notifications:all` channel (its `online` events carry the counts). */
  notifications: Channel<NotificationsRoom>;
}

/** The online counts pushed on `notifications:all`. */
export interface OnlineCounts {
  users: number;
  connections: number;
}

/** Wires the sign-out button (present on signed-in pages). */
export function wireSignOut(): void {
  const button = document.getElementById("sign-out");
  button?.addEventListener("click", async () => {
    button.setAttribute("disabled", "");
    try {
      await api("DELETE", "/api/session");
      location.assign("/");
    } catch (error) {
      button.removeAttribute("disabled");
      toast({ kind: "error", title: "Could not sign out", body: errorMessage(error) });
    }
  });
}

/** Marks the header link of the current app with `aria-current="page"`. */
function markCurrentNav(): void {
  const path = location.pathname;
  const section = (href: string): string => href === "/" ? "/" : `/${href.split("/")[1] ?? ""}`;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("header.top nav a")) {
    const href = link.getAttribute("href") ?? "";
    if (section(href) === section(path)) link.setAttribute("aria-current", "page");
  }
}

/** "2 users online, 3 connections". */
export function onlineText(counts: OnlineCounts): string {
  return `${plural(counts.users, "user")} online, ${plural(counts.connections, "connection")}`;
}

/** Shows that this page's session is over (`message` from the server), with a way to sign in again. */
function showSignedOut(message: string, status: HTMLElement): void {
  status.textContent = message;
  status.title = message;
  status.hidden = false;
  document.body.dataset.connection = "signed-out";
  const banner = h("div", { id: "signed-out", class: "signed-out", role: "alert" },
    h("strong", {}, message), " ", h("a", { href: "/" }, "Sign in again"));
  document.querySelector("header.top")?.after(banner);
}

/** Starts the shared parts of a signed-in page; null when nobody is signed in. */
export function startShell(): Shell | null {
  brandMark();
  wireSignOut();
  markCurrentNav();
  const user = window.currentUser;
  if (user === null || window.userToken === null) return null;

  const online = document.getElementById("online");
  const status = h("span", { id: "connection", class: "connection", role: "status", "aria-live": "polite", hidden: true });
  online?.after(status);

  let state: ConnectionState = "connecting";
  let everOpened = false;
  const listeners: Array<(state: ConnectionState) => void> = [];
  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    document.body.dataset.connection = next;
    status.dataset.state = next;
    if (next === "disconnected") {
      status.textContent = "Disconnected — reconnecting…";
      status.title = "The connection to the server was lost. Cinder reconnects automatically.";
      status.hidden = false;
      online?.classList.add("stale");
    } else {
      status.hidden = true;
      status.textContent = "";
      online?.classList.remove("stale");
    }
    for (const listener of listeners) listener(next);
  };
  document.body.dataset.connection = state;

  const socket = new Socket("/socket", { params: { token: window.userToken } });
  socket.onOpen(() => {
    if (everOpened && state === "disconnected") toast({ kind: "success", title: "Reconnected", duration: 3000 });
    everOpened = true;
    setState("online");
  });
  // A closed socket may mean the session was revoked (sign-out elsewhere, or an admin): ask the
  // server once per close; when it says signed out, stop reconnecting and say why.
  let checking = false;
  let signedOut = false;
  const checkSession = async (): Promise<void> => {
    if (checking || signedOut) return;
    checking = true;
    try {
      await api("GET", "/api/me");
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        signedOut = true;
        socket.disconnect();
        showSignedOut(error.message, status);
      }
    } finally {
      checking = false;
    }
  };
  socket.onClose(() => {
    setState("disconnected");
    void checkSession();
  });
  socket.onError(() => {
    if (!socket.isConnected()) setState("disconnected");
  });
  socket.connect();

  // Stream topics: a page back from a blip gets the notices it missed, once each (docs/recovery.md).
  const notifications = socket.channel<NotificationsRoom>("notifications:all", {}).useStream();
  notifications.on("online", (counts) => {
    if (online !== null) online.textContent = onlineText(counts);
  });
  notifications.on("new_msg", (note) => {
    toast({ kind: "announcement", title: "Announcement", body: note.body, at: note.at, duration: 12_000 });
  });
  notifications.join();

  const personal = socket.channel<NotificationsRoom>(`notifications:user:${user.id}`, {}).useStream();
  personal.on("new_msg", (note) => {
    toast({ kind: "personal", title: "A note for you", body: note.body, at: note.at, duration: 15_000 });
  });
  personal.join();

  return {
    socket, user, notifications,
    state: () => state,
    onState: (callback) => { listeners.push(callback); },
  };
}
