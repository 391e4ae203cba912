/**
 * Inline SVG icons (stroke icons on a 24×24 grid), so the UI looks the same everywhere — no
 * icon font, no emoji font needed, nothing fetched.
 */

type Shape = readonly [tag: "path" | "circle" | "rect" | "polyline" | "line", attrs: Readonly<Record<string, string | number>>];

const ICONS = {
  flame: [["path", { d: "M8.5 14.5A2.5 2.5 0 0 0 11 12c0-1.38-.5-2-1-3-1.07-2.14-.22-4.05 2-6 .5 2.5 2 4.9 4 6.5 2 1.6 3 3.5 3 5.5a7 7 0 1 1-14 0c0-1.15.43-2.29 1-3a2.5 2.5 0 0 0 2.5 2.5z" }]],
  chat: [["path", { d: "M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z" }], ["path", { d: "M8 9h8M8 13h5" }]],
  video: [["rect", { x: 2, y: 5, width: 15, height: 14, rx: 2 }], ["path", { d: "m17 10 5-3v10l-5-3" }]],
  cards: [["rect", { x: 3, y: 7, width: 12, height: 14, rx: 2 }], ["path", { d: "M8 3h11a2 2 0 0 1 2 2v12" }], ["path", { d: "M9 11v6M6 14h6" }]],
  shield: [["path", { d: "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z" }], ["path", { d: "m9 12 2 2 4-4" }]],
  megaphone: [["path", { d: "m3 11 18-5v12L3 14v-3z" }], ["path", { d: "M11.6 16.8a3 3 0 1 1-5.8-1.6" }]],
  mail: [["rect", { x: 2, y: 4, width: 20, height: 16, rx: 2 }], ["path", { d: "m22 7-8.97 5.7a1.94 1.94 0 0 1-2.06 0L2 7" }]],
  check: [["path", { d: "M20 6 9 17l-5-5" }]],
  alert: [["circle", { cx: 12, cy: 12, r: 10 }], ["path", { d: "M12 8v4M12 16h.01" }]],
  info: [["circle", { cx: 12, cy: 12, r: 10 }], ["path", { d: "M12 16v-4M12 8h.01" }]],
  users: [["path", { d: "M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2" }], ["circle", { cx: 9, cy: 7, r: 4 }], ["path", { d: "M22 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75" }]],
  play: [["path", { d: "M7 4.5v15a1 1 0 0 0 1.5.86l12-7.5a1 1 0 0 0 0-1.72l-12-7.5A1 1 0 0 0 7 4.5z", fill: "currentColor", stroke: "none" }]],
  arrowLeft: [["path", { d: "M19 12H5M12 19l-7-7 7-7" }]],
} as const satisfies Record<string, readonly Shape[]>;

/** An icon's name. */
export type IconName = keyof typeof ICONS;

const SVG = "http://www.w3.org/2000/svg";

/** An inline SVG icon (decorative: hidden from assistive technology). */
export function icon(name: IconName, className = "icon"): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  for (const [key, value] of Object.entries({
    viewBox: "0 0 24 24", width: 24, height: 24, fill: "none", stroke: "currentColor",
    "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", focusable: "false",
  })) svg.setAttribute(key, String(value));
  svg.setAttribute("class", className);
  for (const [tag, attrs] of ICONS[name] as readonly Shape[]) {
    const shape = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) shape.setAttribute(key, String(value));
    svg.append(shape);
  }
  return svg;
}

/** Replaces the header brand's emoji with the flame icon (fonts without emoji show a box). */
export function brandMark(): void {
  const brand = document.querySelector("header.top .brand");
  if (brand === null) return;
  brand.replaceChildren(icon("flame", "brand-mark"), document.createTextNode("Cinder"));
}
