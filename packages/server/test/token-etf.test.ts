/** Tests of the Erlang External Term Format codec used by signed tokens, including fuzzing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { EtfAtom, EtfError, EtfTuple, decodeEtf, encodeEtf } from "../src/token/etf.js";
import { prng } from "./support/prng.js";

const bytes = (...b: number[]): Buffer => Buffer.from(b);

test("encodes scalars with the expected tags", () => {
  assert.deepEqual(encodeEtf(0), bytes(131, 97, 0));
  assert.deepEqual(encodeEtf(255), bytes(131, 97, 255));
  assert.deepEqual(encodeEtf(256), bytes(131, 98, 0, 0, 1, 0));
  assert.deepEqual(encodeEtf(-1), bytes(131, 98, 255, 255, 255, 255));
  assert.deepEqual(encodeEtf(2 ** 31 - 1), bytes(131, 98, 0x7f, 0xff, 0xff, 0xff));
  assert.deepEqual(encodeEtf(2 ** 31), bytes(131, 110, 4, 0, 0, 0, 0, 0x80));
  assert.deepEqual(encodeEtf(-(2 ** 31)), bytes(131, 98, 0x80, 0, 0, 0));
  assert.deepEqual(encodeEtf(-(2 ** 31) - 1), bytes(131, 110, 4, 1, 1, 0, 0, 0x80));
  assert.deepEqual(encodeEtf(1700000000000), bytes(131, 110, 6, 0, 0, 0x68, 0xe5, 0xcf, 0x8b, 0x01));
  assert.deepEqual(encodeEtf(1.5), bytes(131, 70, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0));
  assert.deepEqual(encodeEtf("hé"), bytes(131, 109, 0, 0, 0, 3, 0x68, 0xc3, 0xa9));
  assert.deepEqual(encodeEtf(true), bytes(131, 119, 4, ...Buffer.from("true")));
  assert.deepEqual(encodeEtf(false), bytes(131, 119, 5, ...Buffer.from("false")));
  assert.deepEqual(encodeEtf(null), bytes(131, 119, 3, ...Buffer.from("nil")));
  assert.deepEqual(encodeEtf([]), bytes(131, 106));
  assert.deepEqual(encodeEtf([1]), bytes(131, 108, 0, 0, 0, 1, 97, 1, 106));
  assert.deepEqual(encodeEtf({ a: 1 }), bytes(131, 116, 0, 0, 0, 1, 109, 0, 0, 0, 1, 97, 97, 1));
  assert.deepEqual(encodeEtf(new EtfTuple([1, 2])), bytes(131, 104, 2, 97, 1, 97, 2));
  assert.deepEqual(encodeEtf(new EtfAtom("infinity")), bytes(131, 119, 8, ...Buffer.from("infinity")));
  assert.deepEqual(encodeEtf(2n ** 70n), bytes(131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40));
});

test("refuses values it cannot encode", () => {
  for (const v of [() => 1, Symbol("x"), NaN, Infinity, -Infinity, new Date(0), new Map(), /x/]) {
    assert.throws(() => encodeEtf(v), EtfError, String(v));
  }
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => encodeEtf(cyclic), EtfError);
});

test("decodes every supported tag", () => {
  assert.equal(decodeEtf(bytes(131, 97, 7)), 7);
  assert.equal(decodeEtf(bytes(131, 98, 255, 255, 255, 254)), -2);
  assert.equal(decodeEtf(bytes(131, 110, 2, 1, 0, 1)), -256);
  assert.equal(decodeEtf(bytes(131, 110, 0, 0)), 0);
  assert.equal(decodeEtf(bytes(131, 111, 0, 0, 0, 1, 0, 9)), 9);
  assert.equal(decodeEtf(bytes(131, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x40)), -(2n ** 70n));
  assert.equal(decodeEtf(bytes(131, 70, 0xc0, 0, 0, 0, 0, 0, 0, 0)), -2);
  assert.equal(decodeEtf(bytes(131, 109, 0, 0, 0, 2, 0x68, 0x69)), "hi");
  assert.deepEqual(decodeEtf(bytes(131, 109, 0, 0, 0, 2, 0xff, 0x00)), new Uint8Array([0xff, 0]));
  assert.equal(decodeEtf(bytes(131, 119, 3, ...Buffer.from("nil"))), null);
  assert.equal(decodeEtf(bytes(131, 118, 0, 4, ...Buffer.from("true"))), true);
  assert.equal(decodeEtf(bytes(131, 100, 0, 5, ...Buffer.from("false"))), false);
  assert.equal(decodeEtf(bytes(131, 115, 2, 0x6f, 0x6b)), "ok");
  assert.equal(decodeEtf(bytes(131, 115, 1, 0xe9)), "é"); // latin-1 atom
  assert.deepEqual(decodeEtf(bytes(131, 106)), []);
  assert.deepEqual(decodeEtf(bytes(131, 107, 0, 3, 97, 98, 99)), [97, 98, 99]);
  assert.deepEqual(decodeEtf(bytes(131, 108, 0, 0, 0, 2, 97, 1, 115, 3, ...Buffer.from("nil"), 106)), [1, null]);
  assert.deepEqual(decodeEtf(bytes(131, 104, 2, 97, 1, 97, 2)), [1, 2]);
  assert.deepEqual(decodeEtf(bytes(131, 105, 0, 0, 0, 1, 97, 1)), [1]);
  assert.deepEqual(
    decodeEtf(bytes(131, 116, 0, 0, 0, 2, 119, 3, ...Buffer.from("nil"), 97, 1, 97, 5, 119, 4, ...Buffer.from("true"))),
    { nil: 1, 5: true },
  );
  const inner = encodeEtf({ list: Array.from({ length: 100 }, () => "same") }).subarray(1);
  const z = deflateSync(inner);
  const compressed = Buffer.concat([bytes(131, 80), Buffer.from([0, 0, 0, 0]), z]);
  compressed.writeUInt32BE(inner.length, 2);
  assert.deepEqual(decodeEtf(compressed), { list: Array.from({ length: 100 }, () => "same") });
});

test("the tuple hook sees the depth", () => {
  const seen: number[] = [];
  decodeEtf(encodeEtf(new EtfTuple([new EtfTuple([]), [new EtfTuple([1])]])), {
    tuple: (elements, depth) => (seen.push(depth), elements),
  });
  assert.deepEqual(seen.sort(), [0, 1, 2]);
});

test("refuses executable and node-bound terms, and unknown tags", () => {
  const refused: Array<[string, Buffer]> = [
    ["pid", bytes(131, 88, 119, 1, 97, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)],
    ["port", bytes(131, 89, 119, 1, 97, 0, 0, 0, 1, 0, 0, 0, 0)],
    ["reference", bytes(131, 90, 0, 1, 119, 1, 97, 0, 0, 0, 0, 0, 0, 0, 0)],
    ["fun", bytes(131, 112, 0, 0, 0, 30, 0)],
    ["export", bytes(131, 113, 119, 1, 109, 119, 1, 102, 97, 1)],
    ["fun", bytes(131, 117, 0, 0, 0, 0)],
    ["atom cache", bytes(131, 82, 0)],
    ["legacy float", bytes(131, 99, ...Buffer.alloc(31, 0x30))],
  ];
  for (const [name, buf] of refused) {
    assert.throws(() => decodeEtf(buf), (e: unknown) => e instanceof EtfError && /refusing/.test(e.message), name);
  }
  assert.throws(() => decodeEtf(bytes(131, 200)), /unknown term tag 200/);
  assert.throws(() => decodeEtf(bytes(130, 97, 1)), /bad version/);
  assert.throws(() => decodeEtf(bytes()), /empty/);
  assert.throws(() => decodeEtf(bytes(131, 97, 1, 0)), /trailing/);
  assert.throws(() => decodeEtf(bytes(131, 108, 0, 0, 0, 1, 97, 1, 97, 2)), /improper/);
  assert.throws(() => decodeEtf(bytes(131, 116, 0, 0, 0, 1, 106, 97, 1)), /map key/);
  assert.throws(() => decodeEtf(bytes(131, 70, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0)), /finite/);
  assert.throws(() => decodeEtf(bytes(131, 110, 1, 2, 1)), /sign/);
});

test("lengths are capped by the remaining input (no huge allocations)", () => {
  const huge = [0xff, 0xff, 0xff, 0xff];
  for (const buf of [
    bytes(131, 109, ...huge),
    bytes(131, 108, ...huge, 97, 1),
    bytes(131, 116, ...huge, 97, 1),
    bytes(131, 105, ...huge, 97, 1),
    bytes(131, 104, 255, 97, 1),
    bytes(131, 111, ...huge, 0, 1),
    bytes(131, 107, 0xff, 0xff, 1),
    bytes(131, 118, 0xff, 0xff, 1),
    bytes(131, 80, ...huge, 0x78, 0x9c),
  ]) {
    assert.throws(() => decodeEtf(buf), EtfError);
  }
  // Compressed term that inflates to more than it declares (a small "bomb").
  const bomb = deflateSync(Buffer.concat([bytes(109, 0, 0x10, 0, 0), Buffer.alloc(0x100000)]));
  assert.throws(() => decodeEtf(Buffer.concat([bytes(131, 80, 0, 0, 0, 10), bomb])), EtfError);
  assert.throws(() => decodeEtf(Buffer.concat([bytes(131, 80, 0, 0x10, 0, 5), bomb]), { maxInflatedSize: 1000 }), /too large/);
  assert.throws(() => decodeEtf(bytes(131, 80, 0, 0, 0, 5, 1, 2, 3)), /corrupt/);
});

test("deep nesting is rejected instead of overflowing the stack", () => {
  const depth = 100_000;
  const open = Buffer.alloc(depth * 5);
  for (let i = 0; i < depth; i++) open.set([108, 0, 0, 0, 1], i * 5);
  const buf = Buffer.concat([bytes(131), open, Buffer.alloc(depth + 1, 106)]);
  assert.throws(() => decodeEtf(buf), /nested deeper/);
  let nested: unknown = 1;
  for (let i = 0; i < 600; i++) nested = [nested];
  assert.throws(() => encodeEtf(nested), /nested deeper/);
  assert.deepEqual(decodeEtf(encodeEtf(nested, 1000), { maxDepth: 1000 }), nested);
});

test("decoded maps cannot pollute prototypes", () => {
  const protoKey = Buffer.from("__proto__");
  const buf = bytes(131, 116, 0, 0, 0, 2,
    109, 0, 0, 0, protoKey.length, ...protoKey,
    116, 0, 0, 0, 1, 109, 0, 0, 0, 8, ...Buffer.from("polluted"), 119, 4, ...Buffer.from("true"),
    109, 0, 0, 0, 11, ...Buffer.from("constructor"),
    116, 0, 0, 0, 1, 109, 0, 0, 0, 9, ...Buffer.from("prototype"),
    116, 0, 0, 0, 1, 109, 0, 0, 0, 8, ...Buffer.from("polluted"), 97, 1);
  const value = decodeEtf(buf) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.ok(Object.hasOwn(value, "__proto__"));
  assert.deepEqual(Object.keys(value), ["__proto__", "constructor"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, { polluted: true });
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  assert.equal((Object.prototype as Record<string, unknown>)["polluted"], undefined);
  assert.deepEqual(value, JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": 1}}}'));
  // And the own "__proto__" property survives a re-encode.
  assert.deepEqual(decodeEtf(encodeEtf(value)), value);
});

/** Random JSON-ish value (plus bigints) whose ETF round trip is exact. */
function randomValue(rand: () => number, depth: number): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 7 : 10));
  switch (pick) {
    case 0: return null;
    case 1: return rand() < 0.5;
    case 2: {
      const scale = [1, 256, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER][Math.floor(rand() * 5)]!;
      return Math.floor((rand() * 2 - 1) * scale);
    }
    case 3: return (rand() - 0.5) * 10 ** Math.floor(rand() * 20 - 5) || 0.25;
    case 4: return (BigInt(Math.floor(rand() * 2 ** 30)) + 1n) * 2n ** BigInt(60 + Math.floor(rand() * 2000)) * (rand() < 0.5 ? -1n : 1n) + 1n;
    case 5:
    case 6: {
      const len = Math.floor(rand() * 12);
      let s = "";
      for (let i = 0; i < len; i++) {
        const r = rand();
        s += r < 0.6 ? String.fromCharCode(32 + Math.floor(rand() * 95))
          : r < 0.9 ? String.fromCharCode(0xa0 + Math.floor(rand() * 0xd000))
          : String.fromCodePoint(0x1f600 + Math.floor(rand() * 80));
      }
      return s;
    }
    case 7:
    case 8: return Array.from({ length: Math.floor(rand() * 5) }, () => randomValue(rand, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      const n = Math.floor(rand() * 5);
      for (let i = 0; i < n; i++) {
        const key = ["id", "__proto__", "constructor", "toString", "", "ключ", String(i)][Math.floor(rand() * 7)]!;
        Object.defineProperty(obj, key, { value: randomValue(rand, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return obj;
    }
  }
}

test("random values round-trip exactly", () => {
  const rand = prng(1234);
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(rand, 0);
    assert.deepStrictEqual(decodeEtf(encodeEtf(v)), v);
  }
});

test("fuzz: random and mutated input only ever throws EtfError", { timeout: 20_000 }, () => {
  const rand = prng(0xc1de4);
  const seeds = Array.from({ length: 200 }, () => encodeEtf(randomValue(rand, 0)));
  const inner = encodeEtf({ items: Array.from({ length: 40 }, (_, i) => ({ i, s: "text" })) }).subarray(1);
  const compressed = Buffer.concat([bytes(131, 80, 0, 0, 0, 0), deflateSync(inner)]);
  compressed.writeUInt32BE(inner.length, 2);
  seeds.push(compressed);
  const interesting = [0, 1, 2, 70, 80, 97, 98, 100, 104, 105, 106, 107, 108, 109, 110, 111, 115, 116, 118, 119, 255, 131];
  let decoded = 0;
  let rejected = 0;
  const check = (buf: Buffer): void => {
    try {
      decodeEtf(buf);
      decoded++;
    } catch (err) {
      if (!(err instanceof EtfError)) throw new Error(`non-EtfError for ${buf.toString("hex")}: ${String(err)}`);
      rejected++;
    }
  };
  for (let i = 0; i < 20_000; i++) {
    const mode = rand();
    if (mode < 0.3) {
      // Pure random bytes, usually behind a valid version byte.
      const len = Math.floor(rand() * 40);
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = rand() < 0.3 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
      if (len > 0 && rand() < 0.8) buf[0] = 131;
      check(buf);
    } else {
      // Mutate a valid encoding: flip bytes, truncate, splice or extend.
      const base = seeds[Math.floor(rand() * seeds.length)]!;
      let buf = Buffer.from(base);
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const op = rand();
        if (buf.length === 0) break;
        const at = Math.floor(rand() * buf.length);
        if (op < 0.4) buf[at] = rand() < 0.5 ? interesting[Math.floor(rand() * interesting.length)]! : Math.floor(rand() * 256);
        else if (op < 0.6) buf = buf.subarray(0, at);
        else if (op < 0.8) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + Math.floor(rand() * 4))]);
        else buf = Buffer.concat([buf.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff].slice(0, 1 + Math.floor(rand() * 4))), buf.subarray(at)]);
      }
      check(buf);
    }
  }
  assert.equal(decoded + rejected, 20_000);
  assert.ok(rejected > 1000 && decoded > 100, `decoded ${decoded}, rejected ${rejected}`);
});
