/** Encoding JS values as Erlang External Term Format (see etf.ts). */
import { VERSION, NEW_FLOAT_EXT, SMALL_INTEGER_EXT, INTEGER_EXT, SMALL_TUPLE_EXT, LARGE_TUPLE_EXT, NIL_EXT, LIST_EXT, BINARY_EXT, SMALL_BIG_EXT, LARGE_BIG_EXT, MAP_EXT, ATOM_UTF8_EXT, SMALL_ATOM_UTF8_EXT, DEFAULT_MAX_DEPTH, MIN_INT32, MAX_INT32, EtfError, EtfAtom, EtfTuple } from "./etf-format.js";
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
