/**
 * The HTML pages: a shell per app with the header (navigation, who is online, sign-out), a
 * toast area for notifications, and the page's script module. The page's script gets only a
 * *socket token* (`window.userToken`: it opens the socket, not the API, and dies with the session);
 * the session token stays in the HttpOnly cookie; everything user-supplied is rendered by
 * the scripts as text, and what the server puts in a page is escaped.
 */
import type { User } from "../db/store.js";
import { escapeHtml } from "./respond.js";

/** What a page needs to render. */
export interface PageOptions {
  title: string;
  /** The page script under /assets/pages/, without extension. */
  script: string;
  user: User | undefined;
  admin: boolean;
  token: string | undefined;
  /** Data for the script (`window.pageData`). */
  data?: Record<string, unknown>;
  /** The nonce of this response's inline scripts (see security.ts). */
  nonce: string;
}

/** JSON safe to embed in a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Renders a page. */
export function renderPage(options: PageOptions): string {
  const { user, admin } = options;
  const nav = user === undefined ? "" : `
      <nav>
        <a href="/">Home</a>
        <a href="/retro/lobby">Retro</a>
        <a href="/videos">Videos</a>
        <a href="/party/team">Pointing party</a>
        ${admin ? '<a href="/admin">Admin</a>' : ""}
      </nav>
      <span id="online" class="online" aria-live="polite">connecting…</span>
      <span class="me">${escapeHtml(user.username)} <button id="sign-out" class="link">Sign out</button></span>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(options.title)} · Cinder</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/app.css">
  <script type="importmap" nonce="${options.nonce}">{"imports":{"@cinder/client":"/assets/client/cinder-client.min.js"}}</script>
  <script nonce="${options.nonce}">
    window.userToken = ${scriptJson(options.token ?? null)};
    window.currentUser = ${scriptJson(user ?? null)};
    window.isAdmin = ${admin ? "true" : "false"};
    window.pageData = ${scriptJson(options.data ?? {})};
  </script>
</head>
<body>
  <header class="top">
    <a class="brand" href="/">Cinder</a>${nav}
  </header>
  <main id="app"></main>
  <div id="toasts" class="toasts" aria-live="polite"></div>
  <script type="module" src="/assets/pages/${escapeHtml(options.script)}.js"></script>
</body>
</html>`;
}

/** The HTML page for an unknown URL (or a missing video): a plain "not found" with a way home. */
export function renderNotFound(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Not found · Cinder</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/app.css">
</head>
<body>
  <header class="top"><a class="brand" href="/">Cinder</a></header>
  <main id="app" class="not-found">
    <h1>Page not found</h1>
    <p>There is nothing at this address. It may have been mistyped, or the thing it pointed to is gone.</p>
    <p><a href="/">Back to the home page</a></p>
  </main>
</body>
</html>`;
}
