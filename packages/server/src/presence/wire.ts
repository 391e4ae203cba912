/**
 * Wire form of tracker CRDT data (deltas and full-state extractions) and its validation.
 *
 * `TrackerData` is plain JSON-safe data; `TrackerState.takeDelta()` and
 * `TrackerState.extract()` produce it and `TrackerState.merge()` consumes it. Data arriving
 * from the network must go through `decodeData()` first, which checks the shape and throws a
 * `TrackerDataError` on anything malformed.
 *
 * Layout (compact: replica identities appear once, values refer to them by index):
 * ```
 * { v: 1,
 *   kind: "delta" | "state",
 *   from: [name, vsn],                          // the replica that produced the data
 *   replicas: [[name, vsn, context, cloud]...], // causal info per replica
 *   range: [start, end] | null,                 // delta: `from`'s counters start+1..end
 *   values: [[replicaIndex, counter, owner, topic, key, meta]...] }
 * ```
 * `context` = every counter 1..context of that replica is covered; `cloud` = further covered
 * counters. For a delta, `context` is always 0 (its causal info is the cloud plus `range`,
 * and every `from` counter in the range is covered). For a state, `range` is null.
 * Topics, keys and owners travel as array elements, never as object keys, so names like
 * `"__proto__"` are ordinary strings.
 */
import { isCounter, REPLICA_KEY_SEPARATOR } from "./clock.js";

/** Presence metadata: a JSON object (treated as immutable once handed to the tracker). */
export type Meta = Readonly<Record<string, unknown>>;

/** Causal info about one replica: `[name, vsn, contiguous context, cloud counters]`. */
export type WireReplica = [name: string, vsn: string, context: number, cloud: number[]];

/** One value: `[index into replicas, counter, owner, topic, key, meta]`. */
export type WireValue = [replica: number, counter: number, owner: string, topic: string, key: string, meta: Meta];

/** A delta or a full-state extraction in wire form (see the module comment). */
export interface TrackerData {
  v: 1;
  kind: "delta" | "state";
  from: [name: string, vsn: string];
  replicas: WireReplica[];
  range: [start: number, end: number] | null;
  values: WireValue[];
}

/** Current wire format version (`TrackerData.v`). */
export const WIRE_VERSION = 1;

/**
 * Largest accepted delta range (end − start). A legitimate range counts the local ops of one
 * broadcast period; the cap stops a hostile message from making merge iterate billions of
 * counters.
 */
export const MAX_DELTA_RANGE = 10_000_000;

/** Error thrown by `decodeData` for malformed tracker data. */
export class TrackerDataError extends Error {
  constructor(message: string) {
    super(`invalid tracker data: ${message}`);
    this.name = "TrackerDataError";
  }
}

function fail(message: string): never {
  throw new TrackerDataError(message);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function checkName(x: unknown, where: string): string {
  if (typeof x !== "string") fail(`${where}: name must be a string`);
  if (x.includes(REPLICA_KEY_SEPARATOR)) fail(`${where}: name must not contain U+0000`);
  return x;
}

/**
 * Validate untrusted input (e.g. `JSON.parse` of a network message) as `TrackerData` and
 * return it typed. Checks every field, tuple lengths, counter ranges, replica indices and
 * that no replica or value dot appears twice; throws `TrackerDataError` otherwise. The input
 * is returned as is (not copied); `merge` copies metas when storing them.
 */
export function decodeData(input: unknown): TrackerData {
  if (!isPlainObject(input)) fail("expected an object");
  if (input["v"] !== WIRE_VERSION) fail(`unsupported version ${JSON.stringify(input["v"]) ?? "undefined"}`);
  const kind = input["kind"];
  if (kind !== "delta" && kind !== "state") fail('kind must be "delta" or "state"');

  const from = input["from"];
  if (!Array.isArray(from) || from.length !== 2) fail("from must be [name, vsn]");
  checkName(from[0], "from");
  if (typeof from[1] !== "string") fail("from: vsn must be a string");

  const range = input["range"];
  if (kind === "delta") {
    if (!Array.isArray(range) || range.length !== 2) fail("range must be [start, end] in a delta");
    const [s, e] = range as unknown[];
    if (!isCounter(s) || !isCounter(e) || s > e) fail("range must hold counters with start <= end");
    if (e - s > MAX_DELTA_RANGE) fail(`range longer than ${MAX_DELTA_RANGE}`);
  } else if (range !== null) {
    fail("range must be null in a state");
  }

  const replicas = input["replicas"];
  if (!Array.isArray(replicas)) fail("replicas must be an array");
  const seen = new Set<string>();
  for (let i = 0; i < replicas.length; i++) {
    const r: unknown = replicas[i];
    const where = `replicas[${i}]`;
    if (!Array.isArray(r) || r.length !== 4) fail(`${where}: expected [name, vsn, context, cloud]`);
    const name = checkName(r[0], where);
    if (typeof r[1] !== "string") fail(`${where}: vsn must be a string`);
    const key = name + REPLICA_KEY_SEPARATOR + r[1];
    if (seen.has(key)) fail(`${where}: duplicate replica`);
    seen.add(key);
    const ctx: unknown = r[2];
    if (!isCounter(ctx)) fail(`${where}: context must be a non-negative safe integer`);
    if (kind === "delta" && ctx !== 0) fail(`${where}: context must be 0 in a delta`);
    const cloud: unknown = r[3];
    if (!Array.isArray(cloud)) fail(`${where}: cloud must be an array`);
    for (const c of cloud as unknown[]) {
      if (!isCounter(c) || c === 0) fail(`${where}: cloud entries must be positive safe integers`);
    }
  }

  const values = input["values"];
  if (!Array.isArray(values)) fail("values must be an array");
  const dots = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const t: unknown = values[i];
    const where = `values[${i}]`;
    if (!Array.isArray(t) || t.length !== 6) fail(`${where}: expected [replica, counter, owner, topic, key, meta]`);
    const [ri, c, owner, topic, key, meta] = t as unknown[];
    if (!isCounter(ri) || ri >= replicas.length) fail(`${where}: replica index out of range`);
    if (!isCounter(c) || c === 0) fail(`${where}: counter must be a positive safe integer`);
    if (typeof owner !== "string" || typeof topic !== "string" || typeof key !== "string") {
      fail(`${where}: owner, topic and key must be strings`);
    }
    if (!isPlainObject(meta)) fail(`${where}: meta must be an object`);
    const dot = `${ri}:${c}`;
    if (dots.has(dot)) fail(`${where}: duplicate dot`);
    dots.add(dot);
  }
  return input as unknown as TrackerData;
}

/**
 * Splits a full state in two by replica: the replicas `pick` accepts (with their values) and the
 * rest, each a state of its own (merging both equals merging `data`: a state's replicas merge
 * independently).
 */
export function splitState(data: TrackerData, pick: (replica: WireReplica) => boolean): [picked: TrackerData, rest: TrackerData] {
  const parts: [TrackerData, TrackerData] = [
    { ...data, replicas: [], values: [] },
    { ...data, replicas: [], values: [] },
  ];
  /** Per replica of `data`: its part and its index there. */
  const where = data.replicas.map((replica) => {
    const part = parts[pick(replica) ? 0 : 1];
    return { part, index: part.replicas.push(replica) - 1 };
  });
  for (const value of data.values) {
    const { part, index } = where[value[0]]!;
    part.values.push([index, value[1], value[2], value[3], value[4], value[5]]);
  }
  return parts;
}
