/**
 * The apps' configuration, from the environment: PORT (4000), DATA_DIR (./data), DATABASE_URL
 * (PostgreSQL; SQLite under DATA_DIR when unset), SECRET_KEY_BASE (else generated once and kept
 * under DATA_DIR), ADMIN_USERNAMES (comma-separated; "admin"), CINDER_REDIS_URL (a cluster),
 * METRICS_TOKEN (grants GET /metrics from anywhere; without it, loopback only), RETRO_VOTE_BUDGET
 * (votes per person per retro room; 3), VIDEO_POSITION_INTERVAL_MS (how often a watcher's playback
 * position may change their presence; 1000), PARTY_LEAVE_GRACE_MS (how long a pointing-party member
 * may be gone, e.g. a reload, before they count as having left; 1500).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

/** The apps' settings. */
export interface Config {
  port: number;
  host: string | undefined;
  dataDir: string;
  databaseUrl: string | undefined;
  secretKeyBase: string;
  admins: ReadonlySet<string>;
  redisUrl: string | undefined;
  /** A token that grants `GET /metrics` from anywhere (without it: loopback only). */
  metricsToken?: string | undefined;
  /** Votes per person per retro room (default 3). */
  retroVoteBudget?: number | undefined;
  /** The shortest time between two playback-position updates of a watcher's presence (ms, default 1000). */
  positionIntervalMs?: number | undefined;
  /** How long a pointing-party member may be gone before they count as having left (ms, default 1500). */
  partyLeaveGraceMs?: number | undefined;
}

/** A positive integer setting from the environment, or undefined when unset. */
function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${raw}`);
  return value;
}

/** Reads the secret from DATA_DIR, creating it on first start. */
function storedSecret(dataDir: string): string {
  const file = join(dataDir, "secret_key_base");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** Loads the configuration from `env`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = resolve(env.DATA_DIR ?? "./data");
  const secretKeyBase = env.SECRET_KEY_BASE ?? storedSecret(dataDir);
  if (secretKeyBase.length < 20) throw new Error("SECRET_KEY_BASE must be at least 20 characters");
  const port = Number(env.PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid PORT ${env.PORT}`);
  return {
    port,
    host: env.HOST,
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    secretKeyBase,
    admins: new Set((env.ADMIN_USERNAMES ?? "admin").split(",").map((name) => name.trim()).filter(Boolean)),
    redisUrl: env.CINDER_REDIS_URL || undefined,
    metricsToken: env.METRICS_TOKEN || undefined,
    retroVoteBudget: positiveInt(env, "RETRO_VOTE_BUDGET"),
    positionIntervalMs: positiveInt(env, "VIDEO_POSITION_INTERVAL_MS"),
    partyLeaveGraceMs: positiveInt(env, "PARTY_LEAVE_GRACE_MS"),
  };
}
