/**
 * The dashboard's HTML page: one self-contained document (inline CSS and an inline module
 * script, no build step) that loads the `@cinder/client` browser bundle, joins the dashboard
 * topic, keeps the latest snapshot of every node, and shows the cluster's totals, a table per
 * node, channels by topic pattern, the biggest topics and presences, an SVG line chart of
 * messages in/out per second, and a form to disconnect a socket id.
 */

/** What the page needs to connect. */
export interface PageOptions {
  /** The socket's URL path, e.g. `"/socket"`. */
  socketUrl: string;
  /** The socket's connect params (e.g. a signed token), as the app's `connect` expects them. */
  params: Record<string, string>;
  /** Where the page imports the `@cinder/client` browser bundle from. */
  clientUrl: string;
  /** The dashboard topic. */
  topic: string;
  /** A CSP nonce for the inline script, when the app's Content-Security-Policy uses nonces. */
  nonce?: string;
  /** The page title. Default "Cinder dashboard". */
  title?: string;
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Renders the dashboard page. */
export function renderDashboardPage(options: PageOptions): string {
  const nonce = options.nonce === undefined ? "" : ` nonce="${escapeHtml(options.nonce)}"`;
  const config = scriptJson({ socketUrl: options.socketUrl, params: options.params, clientUrl: options.clientUrl, topic: options.topic });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title ?? "Cinder dashboard")}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .5rem} h2{font-size:1rem;margin:1.2rem 0 .4rem}
.cards{display:flex;gap:.8rem;flex-wrap:wrap}.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;min-width:8rem}
.card b{display:block;font-size:1.5rem}table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
svg{background:#fff;border:1px solid #ddd;border-radius:6px}#status.refused,.error{color:#b00020}.ok{color:#1b7f3b}
</style></head>
<body>
<h1>${escapeHtml(options.title ?? "Cinder dashboard")}</h1>
<p id="status">Connecting…</p>
<div class="cards">
<div class="card">Connections<b id="total-connections">–</b><small id="by-transport"></small></div>
<div class="card">Messages in/s<b id="total-in">–</b></div>
<div class="card">Messages out/s<b id="total-out">–</b></div>
<div class="card">Slow consumers<b id="total-slow">–</b></div>
<div class="card">Rate limited<b id="total-limited">–</b></div>
<div class="card">Nodes<b id="total-nodes">–</b></div>
</div>
<h2>Messages per second (last 60 s, all nodes)</h2>
<svg id="chart" width="640" height="160" viewBox="0 0 640 160" role="img" aria-label="messages in and out per second">
<polyline id="line-in" fill="none" stroke="#1565c0" stroke-width="2" points=""/>
<polyline id="line-out" fill="none" stroke="#e65100" stroke-width="2" points=""/>
<text x="8" y="16" fill="#1565c0">in</text><text x="30" y="16" fill="#e65100">out</text><text id="chart-max" x="632" y="16" text-anchor="end" fill="#666"></text>
</svg>
<h2>Nodes</h2>
<table id="nodes"><thead><tr><th>Node</th><th>WebSocket</th><th>Long-poll</th><th>In/s</th><th>Out/s</th><th>Slow consumers</th><th>Rate limited</th><th>Errors</th></tr></thead><tbody></tbody></table>
<div class="grid">
<div><h2>Channels by topic pattern</h2><table id="channels"><tbody></tbody></table></div>
<div><h2>Biggest topics (joined channels)</h2><table id="topics"><tbody></tbody></table></div>
<div><h2>Biggest presences (connections)</h2><table id="presences"><tbody></tbody></table></div>
</div>
<h2>Disconnect a socket</h2>
<form id="disconnect-form"><input id="disconnect-id" name="id" placeholder="socket id" required size="40"> <button type="submit">Disconnect</button> <span id="disconnect-status"></span></form>
<script type="module"${nonce}>
const config = ${config};
const { Socket } = await import(config.clientUrl);
const $ = (id) => document.getElementById(id);
const nodes = new Map();
const history = [];
const sum = (f) => [...nodes.values()].reduce((n, s) => n + f(s), 0);
const total = (record) => Object.values(record).reduce((a, b) => a + b, 0);
function rows(id, entries) {
  const body = $(id).tBodies[0] ?? $(id).createTBody();
  body.replaceChildren(...entries.map(([name, count]) => {
    const tr = document.createElement("tr");
    for (const cell of [name, count]) { const td = document.createElement("td"); td.textContent = String(cell); tr.append(td); }
    return tr;
  }));
}
function merge(key) {
  const merged = new Map();
  for (const s of nodes.values()) for (const { name, count } of s[key]) merged.set(name, (merged.get(name) ?? 0) + count);
  return [...merged].sort((a, b) => b[1] - a[1]).slice(0, 10);
}
function render() {
  const now = Date.now();
  for (const [node, s] of nodes) if (now - s.receivedAt > 5000) nodes.delete(node);
  $("total-connections").textContent = String(sum((s) => s.connections.websocket + s.connections.longpoll));
  $("by-transport").textContent = "ws " + sum((s) => s.connections.websocket) + " · long-poll " + sum((s) => s.connections.longpoll);
  $("total-in").textContent = String(sum((s) => s.inPerSecond));
  $("total-out").textContent = String(sum((s) => s.outPerSecond));
  $("total-slow").textContent = String(sum((s) => s.slowConsumers));
  $("total-limited").textContent = String(sum((s) => total(s.rateLimited)));
  $("total-nodes").textContent = String(nodes.size);
  const body = $("nodes").tBodies[0];
  body.replaceChildren(...[...nodes.values()].sort((a, b) => a.node.localeCompare(b.node)).map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.node = s.node;
    for (const cell of [s.node, s.connections.websocket, s.connections.longpoll, s.inPerSecond, s.outPerSecond, s.slowConsumers, total(s.rateLimited), total(s.errors)]) {
      const td = document.createElement("td"); td.textContent = String(cell); tr.append(td);
    }
    return tr;
  }));
  const channels = new Map();
  for (const s of nodes.values()) for (const [p, n] of Object.entries(s.channels)) channels.set(p, (channels.get(p) ?? 0) + n);
  rows("channels", [...channels].sort((a, b) => b[1] - a[1]));
  rows("topics", merge("biggestTopics"));
  rows("presences", merge("biggestPresences"));
}
function chart() {
  history.push({ in: sum((s) => s.inPerSecond), out: sum((s) => s.outPerSecond) });
  if (history.length > 60) history.shift();
  const max = Math.max(1, ...history.map((p) => Math.max(p.in, p.out)));
  const points = (key) => history.map((p, i) => (i * 640 / 59).toFixed(1) + "," + (150 - p[key] / max * 130).toFixed(1)).join(" ");
  $("line-in").setAttribute("points", points("in"));
  $("line-out").setAttribute("points", points("out"));
  $("chart-max").textContent = "max " + max + "/s";
}
const socket = new Socket(config.socketUrl, { params: config.params });
socket.connect();
const channel = socket.channel(config.topic, {});
channel.on("snapshot", (s) => { nodes.set(s.node, { ...s, receivedAt: Date.now() }); render(); });
channel.join()
  .receive("ok", () => { $("status").textContent = "Live"; $("status").className = "ok"; document.body.dataset.state = "live"; })
  .receive("error", (reply) => {
    $("status").textContent = "Refused: " + (reply && reply.reason ? reply.reason : "unauthorized");
    $("status").className = "refused";
    document.body.dataset.state = "refused";
    channel.leave();
  });
setInterval(() => { render(); chart(); }, 1000);
$("disconnect-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const id = $("disconnect-id").value.trim();
  const status = $("disconnect-status");
  channel.push("disconnect_socket", { id })
    .receive("ok", () => { status.textContent = "Disconnected " + id; status.className = "ok"; })
    .receive("error", (reply) => { status.textContent = (reply && reply.reason) || "refused"; status.className = "error"; })
    .receive("timeout", () => { status.textContent = "No answer"; status.className = "error"; });
});
</script>
</body></html>
`;
}
