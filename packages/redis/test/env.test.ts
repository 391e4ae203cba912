/**
 * `redisOptionsFromEnv`: the settings both apps read from the environment, including the
 * namespace (nodes share state only within one), and clear refusals of bad values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { redisOptionsFromEnv } from "../src/index.js";

test("no URL and no cluster means no adapter; a fallback URL gives one", () => {
  assert.equal(redisOptionsFromEnv({}), undefined);
  assert.deepEqual(redisOptionsFromEnv({}, "redis://127.0.0.1:6379"), { url: "redis://127.0.0.1:6379" });
});

test("every setting is read, the namespace included", () => {
  const options = redisOptionsFromEnv({
    CINDER_REDIS_CLUSTER: "redis://a:7000, redis://b:7001", CINDER_REDIS_ROUTING: "all",
    CINDER_REDIS_LINGER_MS: "250", CINDER_REDIS_NAMESPACE: "shop-eu.1",
  });
  assert.deepEqual(options, { cluster: ["redis://a:7000", "redis://b:7001"], routing: "all", lingerMs: 250, namespace: "shop-eu.1" });
});

test("an empty namespace keeps the adapter's default", () => {
  assert.equal(redisOptionsFromEnv({ CINDER_REDIS_URL: "redis://x", CINDER_REDIS_NAMESPACE: "" })?.namespace, undefined);
});

test("bad values are refused with the variable's name", () => {
  assert.throws(() => redisOptionsFromEnv({ CINDER_REDIS_URL: "redis://x", CINDER_REDIS_NAMESPACE: "a b:{c}" }), /CINDER_REDIS_NAMESPACE/);
  assert.throws(() => redisOptionsFromEnv({ CINDER_REDIS_URL: "redis://x", CINDER_REDIS_ROUTING: "some" }), /CINDER_REDIS_ROUTING/);
  assert.throws(() => redisOptionsFromEnv({ CINDER_REDIS_URL: "redis://x", CINDER_REDIS_LINGER_MS: "-1" }), /CINDER_REDIS_LINGER_MS/);
});
