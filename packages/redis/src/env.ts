/**
 * The adapter's settings from environment variables, as the apps read them:
 * `CINDER_REDIS_URL` (a single Redis), `CINDER_REDIS_CLUSTER` (comma-separated URLs of Redis
 * Cluster nodes: sharded pub/sub), `CINDER_REDIS_ROUTING` (`topic` or `all`),
 * `CINDER_REDIS_LINGER_MS` and `CINDER_REDIS_NAMESPACE` (the prefix of every Redis key and channel;
 * nodes share state only within one namespace).
 */
import type { RedisAdapterOptions, RedisRouting } from "./adapter.js";

/** The engine and routing settings `RedisAdapter` takes from the environment. */
export type RedisEnvOptions = Pick<RedisAdapterOptions, "url" | "cluster" | "routing" | "lingerMs" | "namespace">;

/**
 * Reads the adapter's settings from `env`; undefined when neither `CINDER_REDIS_URL` nor
 * `CINDER_REDIS_CLUSTER` is set (and `fallbackUrl` is not given). Throws on a bad value.
 */
export function redisOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, fallbackUrl?: string): RedisEnvOptions | undefined {
  const cluster = (env.CINDER_REDIS_CLUSTER ?? "").split(",").map((url) => url.trim()).filter(Boolean);
  const url = env.CINDER_REDIS_URL || fallbackUrl;
  if (cluster.length === 0 && url === undefined) return undefined;
  const options: RedisEnvOptions = cluster.length > 0 ? { cluster } : { url: url! };
  const routing = env.CINDER_REDIS_ROUTING;
  if (routing !== undefined && routing !== "") {
    if (routing !== "topic" && routing !== "all") throw new Error(`CINDER_REDIS_ROUTING must be "topic" or "all", not ${routing}`);
    options.routing = routing satisfies RedisRouting;
  }
  const linger = env.CINDER_REDIS_LINGER_MS;
  if (linger !== undefined && linger !== "") {
    const value = Number(linger);
    if (!Number.isFinite(value) || value < 0) throw new Error(`CINDER_REDIS_LINGER_MS must be a number ≥ 0, not ${linger}`);
    options.lingerMs = value;
  }
  const namespace = env.CINDER_REDIS_NAMESPACE;
  if (namespace !== undefined && namespace !== "") {
    if (!/^[\w.-]+$/.test(namespace)) throw new Error(`CINDER_REDIS_NAMESPACE must be letters, digits, "_", "." or "-", not ${namespace}`);
    options.namespace = namespace;
  }
  return options;
}
