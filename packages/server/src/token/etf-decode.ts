/** Decoding Erlang External Term Format into JS values, refusing executable terms (see etf.ts). */
import { inflateSync } from "node:zlib";
import { VERSION, NEW_FLOAT_EXT, COMPRESSED, SMALL_INTEGER_EXT, INTEGER_EXT, ATOM_EXT, SMALL_TUPLE_EXT, LARGE_TUPLE_EXT, NIL_EXT, STRING_EXT, LIST_EXT, BINARY_EXT, SMALL_BIG_EXT, LARGE_BIG_EXT, SMALL_ATOM_EXT, MAP_EXT, ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT, REFUSED_TAGS, DEFAULT_MAX_DEPTH, DEFAULT_MAX_INFLATED, MAX_SAFE, MIN_SAFE, utf8Strict, EtfError, type EtfDecodeOptions } from "./etf-format.js";
// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/** Marker for decoded atoms, so map keys and the caller can tell them from binaries. */
const ATOM = Symbol("atom");
interface DecodedAtom {
  [ATOM]: string;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly maxDepth: number,
    readonly tuple: (elements: unknown[], depth: number) => unknown,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what: string): void {
    if (n > this.remaining) throw new EtfError(`truncated input while reading ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  take(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads a count of items that each occupy at least `minBytes`, capped by what remains. */
  count(width: 1 | 4, minBytes: number, what: string): number {
    const n = width === 1 ? this.u8(what) : this.u32(what);
    if (n * minBytes > this.remaining) {
      throw new EtfError(`${what} length ${n} exceeds the remaining input`);
    }
    return n;
  }
}

function atomValue(name: string): unknown {
  if (name === "nil") return null;
  if (name === "true") return true;
  if (name === "false") return false;
  return name;
}

function readAtomName(r: Reader, tag: number): string {
  const len = tag === SMALL_ATOM_UTF8_EXT || tag === SMALL_ATOM_EXT ? r.u8("atom length") : r.u16("atom length");
  const bytes = r.take(len, "atom");
  if (tag === ATOM_EXT || tag === SMALL_ATOM_EXT) return bytes.toString("latin1");
  try {
    return utf8Strict.decode(bytes);
  } catch {
    throw new EtfError("atom is not valid UTF-8");
  }
}

function readBig(r: Reader, tag: number): number | bigint {
  const n = tag === SMALL_BIG_EXT ? r.u8("big integer size") : r.u32("big integer size");
  const sign = r.u8("big integer sign");
  if (sign > 1) throw new EtfError(`bad big integer sign byte ${sign}`);
  const digits = r.take(n, "big integer");
  let magnitude = 0n;
  if (n > 0) {
    // Little-endian digits: reverse into a hex string, which BigInt parses in linear time.
    let hex = "";
    for (let i = n - 1; i >= 0; i--) hex += digits[i]!.toString(16).padStart(2, "0");
    magnitude = BigInt("0x" + hex);
  }
  const value = sign === 1 ? -magnitude : magnitude;
  if (value >= MIN_SAFE && value <= MAX_SAFE) return Number(value);
  return value;
}

function mapKey(key: unknown): string {
  if (typeof key === "string") return key;
  if (typeof key === "number" || typeof key === "bigint") return String(key);
  if (typeof key === "object" && key !== null && ATOM in key) return (key as DecodedAtom)[ATOM];
  throw new EtfError("unsupported map key (only binaries, atoms and numbers are allowed)");
}

/** Converts a decoded atom marker into its JS value; other values pass through. */
function finish(value: unknown): unknown {
  if (typeof value === "object" && value !== null && ATOM in value) {
    return atomValue((value as DecodedAtom)[ATOM]);
  }
  return value;
}

/**
 * Reads one term. Atoms come back as markers so that map keys keep their names (`nil`,
 * `true`, ...) while values are turned into JS values by {@link finish}.
 */
function readTerm(r: Reader, depth: number): unknown {
  if (depth > r.maxDepth) throw new EtfError(`term nested deeper than ${r.maxDepth} levels`);
  const tag = r.u8("term tag");
  switch (tag) {
    case SMALL_INTEGER_EXT:
      return r.u8("small integer");
    case INTEGER_EXT: {
      r.need(4, "integer");
      const v = r.buf.readInt32BE(r.pos);
      r.pos += 4;
      return v;
    }
    case SMALL_BIG_EXT:
    case LARGE_BIG_EXT:
      return readBig(r, tag);
    case NEW_FLOAT_EXT: {
      r.need(8, "float");
      const v = r.buf.readDoubleBE(r.pos);
      r.pos += 8;
      if (!Number.isFinite(v)) throw new EtfError("float is not finite");
      return v;
    }
    case BINARY_EXT: {
      const len = r.u32("binary length");
      const bytes = r.take(len, "binary");
      try {
        return utf8Strict.decode(bytes);
      } catch {
        // Not text: hand back the raw bytes.
        return Uint8Array.from(bytes);
      }
    }
    case ATOM_EXT:
    case SMALL_ATOM_EXT:
    case ATOM_UTF8_EXT:
    case SMALL_ATOM_UTF8_EXT:
      return { [ATOM]: readAtomName(r, tag) } satisfies DecodedAtom;
    case NIL_EXT:
      return [];
    case STRING_EXT: {
      const len = r.u16("byte list length");
      return Array.from(r.take(len, "byte list"));
    }
    case LIST_EXT: {
      // Every element takes at least one byte, and so does the tail.
      const n = r.u32("list length");
      if (n + 1 > r.remaining) throw new EtfError(`list length ${n} exceeds the remaining input`);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(finish(readTerm(r, depth + 1)));
      const tail = r.u8("list tail");
      if (tail !== NIL_EXT) throw new EtfError("improper lists are not supported");
      return items;
    }
    case SMALL_TUPLE_EXT:
    case LARGE_TUPLE_EXT: {
      const n = r.count(tag === SMALL_TUPLE_EXT ? 1 : 4, 1, "tuple");
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) items.push(finish(readTerm(r, depth + 1)));
      return r.tuple(items, depth);
    }
    case MAP_EXT: {
      const n = r.count(4, 2, "map");
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const key = mapKey(readTerm(r, depth + 1));
        const value = finish(readTerm(r, depth + 1));
        // defineProperty makes "__proto__" an own data property instead of a prototype set.
        Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
      }
      return obj;
    }
    default: {
      const refused = REFUSED_TAGS[tag];
      if (refused !== undefined) throw new EtfError(`refusing to decode ${refused} (tag ${tag})`);
      throw new EtfError(`unknown term tag ${tag}`);
    }
  }
}

/**
 * Decodes ETF bytes (version byte 131, optionally a zlib-compressed term) into JS values:
 * binaries → strings (or `Uint8Array` when not valid UTF-8), integers → numbers (bigints
 * beyond ±2^53-1), floats → numbers, `nil` → `null`, `true`/`false` → booleans, other atoms
 * → their name, lists and tuples → arrays (see {@link EtfDecodeOptions.tuple}), byte lists →
 * arrays of numbers, maps → plain objects with string keys. The whole input must be one
 * term. Throws {@link EtfError} on anything malformed, truncated or refused.
 */
export function decodeEtf(bytes: Uint8Array, options: EtfDecodeOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxInflated = options.maxInflatedSize ?? DEFAULT_MAX_INFLATED;
  const tuple = options.tuple ?? ((elements: unknown[]) => elements);
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new EtfError("empty input");
  if (buf[0] !== VERSION) throw new EtfError(`bad version byte ${buf[0]}`);
  let start = 1;
  if (buf[1] === COMPRESSED) {
    if (buf.length < 6) throw new EtfError("truncated input while reading compressed header");
    const size = buf.readUInt32BE(2);
    if (size > maxInflated) throw new EtfError(`compressed term too large (${size} bytes)`);
    let inflated: Buffer;
    try {
      inflated = inflateSync(buf.subarray(6), { maxOutputLength: Math.max(size, 1) });
    } catch {
      throw new EtfError("corrupt compressed term");
    }
    if (inflated.length !== size) throw new EtfError("compressed term has the wrong size");
    buf = inflated;
    start = 0;
  }
  const r = new Reader(buf, maxDepth, tuple);
  r.pos = start;
  const value = finish(readTerm(r, 0));
  if (r.remaining !== 0) throw new EtfError(`${r.remaining} trailing bytes after term`);
  return value;
}
