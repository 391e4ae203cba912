/**
 * Toasts in `#toasts`: announcements, personal notes and short confirmations. Text only. The
 * container sits in the page's flow under the header (it pushes the page down rather than
 * covering a button), at most three at once; each has a dismiss button.
 */
import { byId, h, timeElement } from "./dom.js";
import { icon, type IconName } from "./icons.js";

/** The kinds of toast, each with its own color and icon. */
export type ToastKind = "announcement" | "personal" | "success" | "error" | "info";

const ICONS: Record<ToastKind, IconName> = {
  announcement: "megaphone",
  personal: "mail",
  success: "check",
  error: "alert",
  info: "info",
};

/** What a toast shows. */
export interface ToastOptions {
  kind: ToastKind;
  title: string;
  body?: string;
  /** When it was sent (ms), shown as local time. */
  at?: number;
  /** How long it stays, in ms (0: until dismissed). Default 8 s. */
  duration?: number;
}

/** Shows a toast; returns its element. */
export function toast(options: ToastOptions): HTMLElement {
  const container = byId("toasts");
  if (!container.classList.contains("inline")) {
    container.classList.add("inline");
    document.querySelector("header.top")?.after(container);
  }
  const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss notification" }, "×");
  const element = h("div", { class: `toast toast-${options.kind}`, role: options.kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-icon", "aria-hidden": "true" }, icon(ICONS[options.kind])),
    h("div", { class: "toast-content" },
      h("div", { class: "toast-title" }, options.title,
        options.at === undefined ? null : h("span", { class: "toast-time" }, " · ", timeElement(options.at))),
      options.body === undefined ? null : h("p", { class: "toast-body" }, options.body)),
    close);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const dismiss = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    element.classList.add("leaving");
    setTimeout(() => element.remove(), 200);
  };
  close.addEventListener("click", dismiss);
  container.appendChild(element);
  while (container.children.length > 3) container.firstElementChild?.remove();
  const duration = options.duration ?? 8000;
  if (duration > 0) {
    timer = setTimeout(dismiss, duration);
    element.addEventListener("mouseenter", () => { if (timer !== undefined) clearTimeout(timer); });
    element.addEventListener("mouseleave", () => { timer = setTimeout(dismiss, 3000); });
  }
  return element;
}
