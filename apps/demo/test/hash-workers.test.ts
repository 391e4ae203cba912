/**
 * Password hashing on its own threads: the same keys as `crypto.scrypt` (hashes stored before
 * the threads still verify), no more threads than the limit however many hashes wait, and a
 * failing computation is an error, not a hang.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, scryptSync } from "node:crypto";
import { hashing, hashPassword, hashWorkers, verifyPassword } from "../src/accounts.js";
import { HashWorkers } from "../src/hash-workers.js";

test("a hash stored by crypto.scrypt verifies on the hashing threads; new hashes verify; wrong passwords do not", async () => {
  const salt = randomBytes(16);
  const legacy = ["scrypt", 16384, 8, 1, salt.toString("base64url"),
    scryptSync("correct horse", salt, 32, { N: 16384, r: 8, p: 1 }).toString("base64url")].join("$");
  assert.equal(await verifyPassword("correct horse", legacy), true);
  assert.equal(await verifyPassword("wrong horse", legacy), false);
  const fresh = await hashPassword("battery staple");
  assert.equal(await verifyPassword("battery staple", fresh), true);
  assert.ok(hashWorkers.threads >= 1, "the hashes ran on a hashing thread");
});

test("six hashes at once use at most HASH_CONCURRENCY threads", async () => {
  const stored = await hashPassword("correct horse");
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => verifyPassword(i % 2 === 0 ? "correct horse" : "nope nope", stored)));
  assert.deepEqual(results, Array.from({ length: 6 }, (_, i) => i % 2 === 0));
  assert.ok(hashWorkers.threads <= hashing.concurrency, `${hashWorkers.threads} threads for a limit of ${hashing.concurrency}`);
  assert.ok(hashing.peak <= hashing.concurrency);
});

test("a computation that fails (parameters over the memory limit) rejects with scrypt's error", async () => {
  const workers = new HashWorkers(1);
  try {
    await assert.rejects(workers.scrypt({ password: "x", salt: new Uint8Array(16), keylen: 32, N: 1 << 20, r: 8, p: 1, maxmem: 1024 }), /memory|invalid|limit/i);
    const key = await workers.scrypt({ password: "x", salt: new Uint8Array(16), keylen: 32, N: 1024, r: 8, p: 1, maxmem: 64 << 20 });
    assert.deepEqual(key, scryptSync("x", new Uint8Array(16), 32, { N: 1024, r: 8, p: 1 }), "the thread still works after a failure");
  } finally {
    await workers.close();
  }
});
