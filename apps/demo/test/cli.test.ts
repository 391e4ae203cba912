/** The operator's CLI: without ADMIN_PASSWORD there is no admin until `cli.js set-password admin` makes one. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TestApp } from "./support/app.js";

const CLI = fileURLToPath(new URL("../src/cli.js", import.meta.url));
const run = promisify(execFile);

test("set-password creates the admin on a store that has none, and resets it (signing its sessions out)", async () => {
  const app = new TestApp("sqlite");
  app.config.adminPassword = undefined;
  await app.start();
  try {
    assert.equal((await app.api("POST", "/api/session", { username: "admin", password: "operator pass 1" })).status, 401, "no admin yet");
    const env = { ...process.env, DATA_DIR: app.config.dataDir, DATABASE_URL: "", CINDER_PASSWORD: "operator pass 1" };
    assert.match((await run(process.execPath, [CLI, "set-password", "admin"], { env })).stdout, /created admin/);
    const first = await app.api("POST", "/api/session", { username: "admin", password: "operator pass 1" });
    assert.equal(first.status, 200);
    assert.equal((await app.api("GET", "/api/me", undefined, String(first.body.token))).body.admin, true);
    await run(process.execPath, [CLI, "set-password", "ADMIN"], { env: { ...env, CINDER_PASSWORD: "operator pass 2" } });
    assert.equal((await app.api("GET", "/api/me", undefined, String(first.body.token))).status, 401, "old sessions are signed out");
    assert.equal((await app.api("POST", "/api/session", { username: "admin", password: "operator pass 2" })).status, 200);
    await assert.rejects(run(process.execPath, [CLI, "frobnicate"], { env }), (error: { code?: number; stderr?: string }) => error.code === 2 && /usage/.test(error.stderr ?? ""));
  } finally {
    await app.destroy();
  }
});
