// Measures what a sign-in flood does to the rest of the server: 120 parallel wrong sign-ins (the
// throttle raised out of the way, so every one is hashed) while static assets are fetched every
// 25 ms. Prints the flood's duration and the assets' latencies. Build first (`npx tsc -b apps/demo`),
// then: node apps/demo/scripts/hash-flood.mjs [parallel=120] [--libuv]
// `--libuv` puts hashing back on libuv's shared pool (`crypto.scrypt`, as before the hashing
// threads), for a side-by-side comparison in one session.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, loadavg } from "node:os";
import { join } from "node:path";
import { silentLogger } from "@cinder/server";
import { scrypt } from "node:crypto";
import { createApp } from "../dist/src/app.js";
import { hashWorkers } from "../dist/src/accounts.js";

const args = process.argv.slice(2);
const libuv = args.includes("--libuv");
const parallel = Number(args.find((a) => /^\d+$/.test(a)) ?? 120);
if (libuv) {
  hashWorkers.scrypt = (job) => new Promise((resolve, reject) => {
    scrypt(job.password, job.salt, job.keylen, { N: job.N, r: job.r, p: job.p, maxmem: job.maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
const dataDir = mkdtempSync(join(tmpdir(), "cinder-flood-"));
const app = await createApp({
  port: 0, host: "127.0.0.1", dataDir, databaseUrl: undefined, secretKeyBase: "x".repeat(40), admins: new Set(["admin"]),
  redisUrl: undefined, signInPerAccount: 100_000, signInPerAddress: 100_000,
}, { logger: silentLogger });
await new Promise((resolve) => app.server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${app.server.address().port}`;
const post = (path, body) => fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
await post("/api/users", { username: "flood_fay", password: "correct horse" });
const timed = async (url) => { const start = performance.now(); const r = await fetch(url); await r.arrayBuffer(); return performance.now() - start; };
for (let i = 0; i < 5; i += 1) await timed(`${base}/assets/app.css`); // warm

const quiet = [];
for (let i = 0; i < 20; i += 1) quiet.push(await timed(`${base}/assets/app.css`));
const assets = [];
let flooding = true;
const started = performance.now();
const flood = Promise.all(Array.from({ length: parallel }, () => post("/api/session", { username: "flood_fay", password: "wrong password" }).then((r) => r.status)));
const probe = (async () => {
  while (flooding) {
    assets.push(timed(`${base}/assets/app.css`), timed(`${base}/favicon.svg`));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
})();
const statuses = await flood;
const floodMs = performance.now() - started;
flooding = false;
await probe;
const latencies = (await Promise.all(assets)).sort((a, b) => a - b);
const pct = (list, p) => list[Math.min(list.length - 1, Math.floor(list.length * p))];
const fmt = (ms) => `${ms.toFixed(1)} ms`;
console.log(JSON.stringify({ statuses: [...new Set(statuses)] }));
console.log(`hashing on ${libuv ? "libuv's shared pool (before)" : "its own threads (after)"}; load average (1 min) ${loadavg()[0].toFixed(2)}`);
console.log(`${parallel} wrong sign-ins: ${(floodMs / 1000).toFixed(2)} s in all`);
console.log(`assets without the flood: p50 ${fmt(pct(quiet.sort((a, b) => a - b), 0.5))}, max ${fmt(quiet.at(-1))}`);
console.log(`assets during the flood (${latencies.length}): p50 ${fmt(pct(latencies, 0.5))}, p90 ${fmt(pct(latencies, 0.9))}, max ${fmt(latencies.at(-1))}`);
await app.close();
rmSync(dataDir, { recursive: true, force: true });
