// N official phoenix.js clients joining one presence topic in batches; counts join timeouts,
// heartbeat timeouts, closes, rejoins; reports full views over time.
import { Socket, Presence } from "phoenix";
import { WebSocket } from "ws";
const N = Number(process.env.N ?? 500), BATCH = Number(process.env.BATCH ?? 50);
const PAD = "x".repeat(Number(process.env.PAD ?? 0));
const HB = Number(process.env.HB ?? 30000), TIMEOUT = Number(process.env.TIMEOUT ?? 10000);
const BURN = Number(process.env.BURN_US ?? 0); // µs of extra work per received frame (a slower reader)
const topic = `presence:storm-${Date.now()}`;
const stats = { joinTimeouts: 0, hbTimeouts: 0, closes: 0, joins: 0, rejoins: 0, errors: 0, frames: 0, bytes: 0 };
const full = new Set();
const counts = new Array(N).fill(0);
const t0 = performance.now();
class WS extends WebSocket { constructor(url, p) { super(url, p, { perMessageDeflate: false }); } }
function spin(us) { const end = performance.now() + us / 1000; while (performance.now() < end); }
async function member(i) {
  const socket = new Socket(`ws://127.0.0.1:${process.env.PORT ?? 4555}/socket`, {
    transport: WS, params: { user: `m${i}` }, heartbeatIntervalMs: HB, timeout: TIMEOUT,
    decode: (raw, cb) => { stats.frames++; stats.bytes += raw.length; if (BURN) spin(BURN); const [join_ref, ref, topic, event, payload] = JSON.parse(raw); cb({ join_ref, ref, topic, event, payload }); },
  });
  socket.onConnError?.(() => {});
  socket.onClose((e) => { stats.closes++; if (e?.reason === "heartbeat timeout" || e?.code === 1000) {} });
  const origHb = socket.heartbeatTimeout?.bind(socket);
  if (origHb) socket.heartbeatTimeout = () => { stats.hbTimeouts++; origHb(); };
  socket.connect();
  const ch = socket.channel(topic, { meta: PAD ? { pad: PAD } : {} });
  const presence = new Presence(ch);
  presence.onSync(() => {
    const n = presence.list().length; counts[i] = n;
    if (n === N) full.add(i); else full.delete(i);
  });
  let first = true;
  await new Promise((resolve) => {
    ch.join().receive("ok", () => { stats.joins++; if (!first) stats.rejoins++; first = false; resolve(); })
      .receive("timeout", () => { stats.joinTimeouts++; })
      .receive("error", () => { stats.errors++; });
  });
}
const report = () => {
  const min = Math.min(...counts), max = Math.max(...counts);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)}s full ${full.size}/${N} view min ${min} max ${max} ${JSON.stringify(stats)} MB ${(stats.bytes / 1e6).toFixed(0)}`);
};
const timer = setInterval(report, 2000);
let next = 0;
async function lane() { while (next < N) { const i = next++; await member(i); } }
await Promise.all(Array.from({ length: BATCH }, lane));
console.log(`all joined at ${((performance.now() - t0) / 1000).toFixed(1)}s`);
const deadline = performance.now() + Number(process.env.WAIT ?? 60) * 1000;
while (full.size < N && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
report(); clearInterval(timer);
console.log(full.size === N ? `COMPLETE at ${((performance.now() - t0) / 1000).toFixed(1)}s` : "INCOMPLETE");
process.exit(0);
