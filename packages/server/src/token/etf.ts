/**
 * A small, defensive codec for the Erlang External Term Format (ETF), covering the subset
 * Phoenix.Token payloads use: integers, floats, binaries (Elixir strings), atoms, lists,
 * tuples and maps. Executable or node-bound terms (funs, exports, pids, ports, refs) are
 * refused. The decoder never reads past its input, caps every length against the bytes
 * that remain, limits nesting depth and decompressed size, and builds maps without
 * touching prototypes.
 */
import { inflateSync } from "node:zlib";

const VERSION = 131;
const NEW_FLOAT_EXT = 70;
const COMPRESSED = 80;
const SMALL_INTEGER_EXT = 97;
const INTEGER_EXT = 98;
const ATOM_EXT = 100;
const SMALL_TUPLE_EXT = 104;
const LARGE_TUPLE_EXT = 105;
const NIL_EXT = 106;
const STRING_EXT = 107;
const LIST_EXT = 108;
const BINARY_EXT = 109;
const SMALL_BIG_EXT = 110;
const LARGE_BIG_EXT = 111;
const SMALL_ATOM_EXT = 115;
const MAP_EXT = 116;
const ATOM_UTF8_EXT = 118;
const SMALL_ATOM_UTF8_EXT = 119;

/** Names of tags the decoder recognises but refuses, for clearer error messages. */
const REFUSED_TAGS: Readonly<Record<number, string>> = {
  68: "distribution header",
  77: "bit binary",
  82: "atom cache reference",
  88: "pid",
  89: "port",
  90: "reference",
  99: "legacy float",
  101: "reference",
  102: "port",
  103: "pid",
  112: "fun",
  113: "export",
  114: "reference",
  117: "fun",
  120: "port",
  121: "local term",
};

/** Default nesting limit for both encoding and decoding. */
const DEFAULT_MAX_DEPTH = 512;
/** Default cap on the declared uncompressed size of a compressed term (bytes). */
const DEFAULT_MAX_INFLATED = 16 * 1024 * 1024;

const MIN_INT32 = -0x8000_0000;
const MAX_INT32 = 0x7fff_ffff;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Error thrown for anything the codec cannot encode or decode. */
export class EtfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EtfError";
  }
}

/** An Erlang atom to encode, for atoms other than `true`/`false`/`nil` (e.g. `infinity`). */
export class EtfAtom {
  /** @param name the atom's name (at most 255 characters). */
  constructor(readonly name: string) {}
}

/** An Erlang tuple to encode (JS arrays encode as lists). */
export class EtfTuple {
  /** @param elements the tuple's elements, in order. */
  constructor(readonly elements: readonly unknown[]) {}
}

/** Options for {@link decodeEtf}. */
export interface EtfDecodeOptions {
  /** Maximum nesting depth of lists, tuples and maps (default 512). */
  maxDepth?: number;
  /** Maximum uncompressed size of a compressed term in bytes (default 16 MiB). */
  maxInflatedSize?: number;
  /**
   * Builds the JS value of a tuple. Default: a plain array of its elements. `depth` is 0 for
   * the outermost term.
   */
  tuple?: (elements: unknown[], depth: number) => unknown;
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/** Growable byte buffer used by the encoder. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16BE(v, this.len);
    this.len += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.len);
    this.len += 4;
  }

  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32BE(v, this.len);
    this.len += 4;
  }

  f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleBE(v, this.len);
    this.len += 8;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function writeAtom(w: Writer, name: string): void {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length <= 255) {
    w.u8(SMALL_ATOM_UTF8_EXT);
    w.u8(bytes.length);
  } else if (bytes.length <= 0xffff) {
    w.u8(ATOM_UTF8_EXT);
    w.u16(bytes.length);
  } else {
    throw new EtfError("atom name too long");
  }
  w.bytes(bytes);
}

function writeBigInt(w: Writer, value: bigint): void {
  const negative = value < 0n;
  let magnitude = negative ? -value : value;
  const digits: number[] = [];
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  if (digits.length <= 255) {
    w.u8(SMALL_BIG_EXT);
    w.u8(digits.length);
  } else {
    w.u8(LARGE_BIG_EXT);
    w.u32(digits.length);
  }
  w.u8(negative ? 1 : 0);
  w.bytes(Uint8Array.from(digits));
}

function writeInteger(w: Writer, value: bigint | number): void {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    if (value >= 0 && value <= 255) {
      w.u8(SMALL_INTEGER_EXT);
      w.u8(value);
      return;
    }
    if (value >= MIN_INT32 && value <= MAX_INT32) {
      w.u8(INTEGER_EXT);
      w.i32(value);
      return;
    }
  }
  const big = BigInt(value);
  if (big >= BigInt(MIN_INT32) && big <= BigInt(MAX_INT32)) {
    writeInteger(w, Number(big));
    return;
  }
  writeBigInt(w, big);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function writeTerm(w: Writer, value: unknown, depth: number, maxDepth: number): void {
  if (depth > maxDepth) throw new EtfError(`term nested deeper than ${maxDepth} levels (cycle?)`);
  switch (typeof value) {
    case "string": {
      const bytes = Buffer.from(value, "utf8");
      w.u8(BINARY_EXT);
      w.u32(bytes.length);
      w.bytes(bytes);
      return;
    }
    case "number":
      if (!Number.isFinite(value)) throw new EtfError(`cannot encode non-finite number ${value}`);
      // Integers beyond ±(2^53-1) are not exact in JS: they stay floats so they decode back
      // to the same number (use a bigint to send an exact big integer).
      if (Number.isSafeInteger(value)) writeInteger(w, value);
      else {
        w.u8(NEW_FLOAT_EXT);
        w.f64(value);
      }
      return;
    case "bigint":
      writeInteger(w, value);
      return;
    case "boolean":
      writeAtom(w, value ? "true" : "false");
      return;
    case "undefined":
      writeAtom(w, "nil");
      return;
    case "object": {
      if (value === null) {
        writeAtom(w, "nil");
        return;
      }
      if (value instanceof EtfAtom) {
        writeAtom(w, value.name);
        return;
      }
      if (value instanceof EtfTuple) {
        const n = value.elements.length;
        if (n <= 255) {
          w.u8(SMALL_TUPLE_EXT);
          w.u8(n);
        } else {
          w.u8(LARGE_TUPLE_EXT);
          w.u32(n);
        }
        for (const element of value.elements) writeTerm(w, element, depth + 1, maxDepth);
        return;
      }
      if (value instanceof Uint8Array) {
        w.u8(BINARY_EXT);
        w.u32(value.length);
        w.bytes(value);
        return;
      }
      if (Array.isArray(value)) {
        if (value.length === 0) {
          w.u8(NIL_EXT);
          return;
        }
        w.u8(LIST_EXT);
        w.u32(value.length);
        for (let i = 0; i < value.length; i++) writeTerm(w, value[i], depth + 1, maxDepth);
        w.u8(NIL_EXT);
        return;
      }
      if (isPlainObject(value)) {
        // Like JSON, properties whose value is undefined are left out.
        const keys = Object.keys(value).filter((k) => value[k] !== undefined);
        w.u8(MAP_EXT);
        w.u32(keys.length);
        for (const key of keys) {
          writeTerm(w, key, depth + 1, maxDepth);
          writeTerm(w, value[key], depth + 1, maxDepth);
        }
        return;
      }
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new EtfError(`cannot encode object of type ${typeof name === "string" ? name : "unknown"}`);
    }
    default:
      throw new EtfError(`cannot encode value of type ${typeof value}`);
  }
}

/**
 * Encodes a JS value as ETF (with the version byte). Strings and `Uint8Array`s become
 * binaries, safe integers and bigints become small/32-bit/big integers, other finite numbers
 * (including integers beyond ±(2^53-1)) floats, `true`/`false` the atoms, `null`/`undefined` the atom `nil`, arrays lists, plain
 * objects maps with binary keys (properties set to `undefined` are skipped), {@link EtfAtom}
 * an atom, {@link EtfTuple} a tuple. Anything else throws {@link EtfError}.
 */
export function encodeEtf(value: unknown, maxDepth = DEFAULT_MAX_DEPTH): Buffer {
  const w = new Writer();
  w.u8(VERSION);
  writeTerm(w, value, 0, maxDepth);
  return w.result();
}

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
