/**
 * The back office (admins only): broadcast to everyone, send a note to one user, disconnect a
 * user's sessions — each a form over the admin API with its answer shown next to it — and the
 * live online counts from `notifications:all`.
 */
import { api, errorMessage } from "../lib/api.js";
import { FormStatus, clockSeconds, field, h, mainArea, notice, pageHead, replace, timeElement } from "../lib/dom.js";
import { startShell, type Shell } from "../lib/shell.js";

const main = mainArea();
const shell = startShell();
if (shell !== null) {
  if (!window.isAdmin) {
    main.append(pageHead("Admin", "Admins only"),
      notice("error", "This page is for admins.", h("a", { href: "/" }, "Back to the apps")));
  } else {
    admin(shell);
  }
}

function admin(shell: Shell): void {
  const users = h("span", { class: "stat-value", id: "stat-users" }, "–");
  const connections = h("span", { class: "stat-value", id: "stat-connections" }, "–");
  const usersLabel = h("span", { class: "stat-label" }, "users online");
  const connectionsLabel = h("span", { class: "stat-label" }, "connections");
  const updated = h("span", { class: "muted small", id: "stat-updated" }, "Waiting for the first update…");
  const log = h("ol", { class: "activity", id: "activity", "aria-label": "Sent from this page" },
    h("li", { class: "empty" }, "Nothing sent yet."));

  shell.notifications.on("online", (counts) => {
    users.textContent = String(counts.users);
    connections.textContent = String(counts.connections);
    usersLabel.textContent = counts.users === 1 ? "user online" : "users online";
    connectionsLabel.textContent = counts.connections === 1 ? "connection" : "connections";
    replace(updated, "Updated ", timeElement(Date.now(), clockSeconds));
  });
  shell.onState((state) => {
    if (state === "disconnected") replace(updated, "Not live: reconnecting…");
  });

  const record = (text: string): void => {
    log.querySelector(".empty")?.remove();
    log.prepend(h("li", null, timeElement(Date.now(), clockSeconds), " ", text));
    while (log.children.length > 20) log.lastElementChild?.remove();
  };

  /** A back-office form: fields, a submit button, and the API answer next to it. */
  const form = (id: string, title: string, description: string, fields: HTMLElement[], action: string, danger: boolean,
    submit: () => Promise<string>): HTMLElement => {
    const status = new FormStatus();
    const button = h("button", { class: `button ${danger ? "danger" : "primary"}`, type: "submit" }, action);
    const element = h("form", { id, class: "stack", novalidate: true }, ...fields, status.element, button);
    element.addEventListener("submit", async (event) => {
      event.preventDefault();
      status.clear();
      button.disabled = true;
      try {
        const done = await submit();
        status.ok(done);
        record(done);
        element.reset();
      } catch (error) {
        status.error(errorMessage(error));
      } finally {
        button.disabled = false;
      }
    });
    return h("section", { class: "panel", "aria-labelledby": `${id}-title` },
      h("h2", { class: "panel-title", id: `${id}-title` }, title),
      h("p", { class: "muted small" }, description),
      element);
  };

  const required = (input: HTMLInputElement | HTMLTextAreaElement, what: string): string => {
    const value = input.value.trim();
    if (value === "") {
      input.focus();
      throw new Error(`Enter ${what}.`);
    }
    return value;
  };

  const broadcastBody = h("textarea", { id: "broadcast-body", rows: 3, maxlength: 1000, placeholder: "Maintenance at 18:00 — save your work." });
  const notifyUser = h("input", { id: "notify-username", type: "text", maxlength: 32, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });
  const notifyBody = h("textarea", { id: "notify-body", rows: 3, maxlength: 1000 });
  const disconnectUser = h("input", { id: "disconnect-username", type: "text", maxlength: 32, autocomplete: "off", autocapitalize: "none", spellcheck: "false" });

  main.append(
    pageHead("Admin", "Back office", "Talk to everyone who is online, or to one person; end a user's sessions."),
    h("section", { class: "stats", "aria-label": "Online now", "aria-live": "polite" },
      h("div", { class: "stat card" }, users, usersLabel),
      h("div", { class: "stat card" }, connections, connectionsLabel),
      h("div", { class: "stat-note" }, h("span", { class: "live-dot", "aria-hidden": "true" }), updated),
      h("a", { id: "dashboard-link", href: "/admin/dashboard" }, "Live dashboard")),
    h("div", { class: "admin-grid" },
      form("broadcast-form", "Broadcast", "Every open page shows this as a notification.", [field("Message", broadcastBody)],
        "Send to everyone", false, async () => {
          const body = required(broadcastBody, "a message");
          await api("POST", "/api/admin/broadcast", { body });
          return `Broadcast sent: “${body}”`;
        }),
      form("notify-form", "Notify a user", "Only this user sees it, on every page they have open.",
        [field("Username", notifyUser), field("Message", notifyBody)], "Send note", false, async () => {
          const username = required(notifyUser, "a username");
          const body = required(notifyBody, "a message");
          await api("POST", "/api/admin/notify", { username, body });
          return `Note sent to ${username}: “${body}”`;
        }),
      form("disconnect-form", "Disconnect a user", "Signs the user out everywhere: their sessions are revoked, their connections closed, and their pages tell them.",
        [field("Username", disconnectUser)], "Disconnect", true, async () => {
          const username = required(disconnectUser, "a username");
          await api("POST", "/api/admin/disconnect", { username });
          return `Disconnected ${username}`;
        })),
    h("section", { class: "panel" }, h("h2", { class: "panel-title" }, "Activity"), log));
}
