/**
 * Browser page lifecycle for a socket: disconnect on `pagehide` and connect again on `pageshow`
 * (back/forward cache), reconnect at once when a hidden page becomes visible, and tell whether
 * the page is hidden (no reconnect attempts while it is). Nothing happens outside browsers.
 */

/** What the page watcher calls on the socket. */
export interface PageHooks {
  onHide(): void;
  onShow(): void;
  onVisible(): void;
}

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface DocumentLike extends EventTargetLike {
  readonly visibilityState?: string;
}

function pageWindow(): (EventTargetLike & { document?: DocumentLike }) | undefined {
  const g = globalThis as { window?: unknown; addEventListener?: unknown };
  if (typeof g.window === "object" && g.window !== null && typeof g.addEventListener === "function") {
    return g as unknown as EventTargetLike & { document?: DocumentLike };
  }
  return undefined;
}

/** True when running in a page whose document is hidden. */
export function pageHidden(): boolean {
  return pageWindow()?.document?.visibilityState === "hidden";
}

/** Subscribes to page lifecycle events (in browsers); returns an unsubscribe function. */
export function watchPage(hooks: PageHooks): () => void {
  const win = pageWindow();
  if (win === undefined) return () => undefined;
  const onHide = (): void => hooks.onHide();
  const onShow = (): void => hooks.onShow();
  const onVisibility = (): void => { if (!pageHidden()) hooks.onVisible(); };
  win.addEventListener("pagehide", onHide);
  win.addEventListener("pageshow", onShow);
  win.addEventListener("visibilitychange", onVisibility);
  win.document?.addEventListener("resume", onVisibility);
  return () => {
    win.removeEventListener("pagehide", onHide);
    win.removeEventListener("pageshow", onShow);
    win.removeEventListener("visibilitychange", onVisibility);
    win.document?.removeEventListener("resume", onVisibility);
  };
}
