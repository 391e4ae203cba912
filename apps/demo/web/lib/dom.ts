/**
 * DOM helpers. Everything the pages render is built with `createElement` and text nodes, so
 * user-supplied text can never become markup: `h("p", {}, message.body)` puts the body in a
 * text node, attributes go through `setAttribute`, and nothing here touches `innerHTML`.
 */

/** A child of `h`: nodes, text (strings and numbers become text nodes), or nothing. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

/** Attribute values: strings/numbers are set, `true` sets an empty attribute, null/undefined/false skip. */
type AttrValue = string | number | boolean | null | undefined;

/** Attributes of `h`: plain attributes, `on<event>` listeners, and `dataset` entries. */
export type Attrs = {
  [name: string]: AttrValue | EventListener | Record<string, string> | undefined;
} & {
  dataset?: Record<string, string>;
};

/** Appends `children` (flattened; text as text nodes) to `parent`. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as readonly Child[]));
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Creates an element: `h("button", {class: "primary", onclick: go}, "Go")`. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset" && typeof value === "object") {
      for (const [key, data] of Object.entries(value)) element.dataset[key] = data;
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value as EventListener);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, ...children);
  return element;
}

/** Replaces the children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** The element with this id (throws when the page shell lacks it). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** The page's main area, emptied. */
export function mainArea(): HTMLElement {
  const main = byId("app");
  replace(main);
  return main;
}

/** A local time of day, e.g. "14:05" (in the browser's locale and time zone). */
export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** A local time with seconds, e.g. "14:05:09". */
export function clockSeconds(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

/** A full local date and time, for tooltips. */
export function fullDate(ms: number): string {
  return new Date(ms).toLocaleString();
}

/** A `<time>` element showing the local time of `ms`, with the full date as tooltip. */
export function timeElement(ms: number, format: (ms: number) => string = clock): HTMLTimeElement {
  return h("time", { datetime: new Date(ms).toISOString(), title: fullDate(ms) }, format(ms));
}

/** A playback position, e.g. 65 000 ms → "1:05" (hours when needed). */
export function playbackTime(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** "1 user" / "2 users". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A stable hue (0–359) for a name, to color its avatar. */
export function hue(name: string): number {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 360;
  return hash;
}

/** A round avatar with the name's first letter. */
export function avatar(name: string, size: "sm" | "md" = "md"): HTMLElement {
  const initial = [...name][0]?.toUpperCase() ?? "?";
  return h("span", { class: `avatar avatar-${size}`, style: `--hue: ${hue(name)}`, "aria-hidden": "true" }, initial);
}

/** A visually hidden label for a control. */
export function srLabel(forId: string, text: string): HTMLLabelElement {
  return h("label", { class: "sr-only", for: forId }, text);
}

/** A labelled form field: label, control, optional hint. */
export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, hint?: string): HTMLElement {
  const hintId = hint === undefined ? undefined : `${control.id}-hint`;
  if (hintId !== undefined) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" },
    h("label", { for: control.id }, label),
    control,
    hint === undefined ? null : h("p", { class: "hint", id: hintId }, hint));
}

/** An inline message area for a form (errors are announced). */
export class FormStatus {
  readonly element: HTMLElement = h("p", { class: "form-status", role: "status", "aria-live": "polite", hidden: true });

  /** Shows an error. */
  error(message: string): void {
    this.#show("error", message);
  }

  /** Shows a success note. */
  ok(message: string): void {
    this.#show("ok", message);
  }

  /** Hides the message. */
  clear(): void {
    this.element.hidden = true;
    this.element.textContent = "";
  }

  #show(kind: "error" | "ok", message: string): void {
    this.element.className = `form-status ${kind}`;
    this.element.setAttribute("role", kind === "error" ? "alert" : "status");
    this.element.textContent = message;
    this.element.hidden = false;
  }
}

/** A page header: eyebrow, title, optional subtitle and actions. */
export function pageHead(eyebrow: string, title: string, subtitle?: Child, actions?: Child): HTMLElement {
  return h("section", { class: "page-head" },
    h("div", { class: "page-title" },
      h("p", { class: "eyebrow" }, eyebrow),
      h("h1", null, title),
      subtitle === undefined || subtitle === null ? null : h("p", { class: "subtitle" }, subtitle)),
    actions === undefined || actions === null ? null : h("div", { class: "page-actions" }, actions));
}

/** A full-width notice (errors, empty states) in the page. */
export function notice(kind: "error" | "info", title: string, body?: Child): HTMLElement {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
    h("strong", null, title),
    body === undefined ? null : h("div", null, body));
}

/** Focuses `element` on devices with a mouse (on phones it would pop the keyboard up at once). */
export function focusOnDesktop(element: HTMLElement): void {
  if (window.matchMedia("(pointer: fine)").matches) element.focus();
}

/** A one-field form that navigates to `target(value)`. */
export function goForm(id: string, label: string, placeholder: string, target: (value: string) => string, action: string): HTMLFormElement {
  const input = h("input", { id: `${id}-name`, type: "text", placeholder, maxlength: 100, autocomplete: "off" });
  const form = h("form", { class: "inline-form" },
    h("label", { class: "sr-only", for: input.id }, label),
    input,
    h("button", { class: "button", type: "submit" }, action));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const name = input.value.trim() || placeholder;
    location.assign(target(name));
  });
  return form;
}
