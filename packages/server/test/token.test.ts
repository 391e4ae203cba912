/** Tests of Phoenix.Token-compatible signing and verification (behaviour, tampering, expiry). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, pbkdf2Sync } from "node:crypto";
import { Token, TokenError, type TokenErrorReason } from "../src/token/index.js";
import { encodeEtf, EtfTuple } from "../src/token/etf.js";

const SECRET = "a-secret-key-base-that-is-long-enough-0123456789";
const SALT = "user socket";

function rejects(fn: () => unknown, reason: TokenErrorReason, label?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TokenError, `${label ?? ""}: expected TokenError, got ${String(err)}`);
    assert.equal(err.reason, reason, `${label ?? ""}: ${err.message}`);
    return true;
  }, label);
}

/** Signs arbitrary plaintext bytes with the real key, bypassing Token.sign. */
function signRaw(plaintext: Buffer, secret = SECRET, salt = SALT): string {
  const key = pbkdf2Sync(secret, salt, 1000, 32, "sha256");
  const input = `SFMyNTY.${plaintext.toString("base64url")}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

test("token has Phoenix's shape and decodes to {data, signed_at_ms, max_age}", () => {
  const token = Token.sign(SECRET, SALT, { user_id: 1 }, { signedAt: 1_700_000_000.5, maxAge: 60 });
  const [header, payload, sig] = token.split(".");
  assert.equal(header, "SFMyNTY");
  assert.match(payload!, /^[A-Za-z0-9_-]+$/);
  assert.match(sig!, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(
    Buffer.from(payload!, "base64url"),
    encodeEtf(new EtfTuple([{ user_id: 1 }, 1_700_000_000_500, 60])),
  );
  const key = pbkdf2Sync(SECRET, SALT, 1000, 32, "sha256");
  assert.equal(sig, createHmac("sha256", key).update(`${header}.${payload}`).digest("base64url"));
});

test("round-trips many JS shapes", () => {
  const shapes: unknown[] = [
    null, true, false, 0, 1, -1, 255, 256, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER, 2n ** 64n, -(2n ** 100n), 1.5, -0.125, 1e300, 2 ** 60, -(2 ** 70), 5e-324, "", "hello",
    "ünïcödé 🎉 漢字", "a".repeat(10_000), [], [1, "two", [3, [4]]], {}, { a: { b: { c: [null, true] } } },
    { user_id: 42, roles: ["admin", "user"], meta: { since: 1_700_000_000_000, score: 9.75 } },
    JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": 2}}'),
    Array.from({ length: 1000 }, (_, i) => ({ i })),
  ];
  for (const data of shapes) {
    assert.deepStrictEqual(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, data)), data);
  }
  // Lossy but documented conversions.
  assert.equal(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, undefined)), null);
  assert.deepStrictEqual(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, { a: undefined, b: 1 })), { b: 1 });
  assert.equal(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, 2.0)), 2);
  assert.deepStrictEqual(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, new Uint8Array([255, 1]))), new Uint8Array([255, 1]));
  assert.equal(Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, Buffer.from("text"))), "text");
});

test("sign refuses unencodable data with a plain error", () => {
  assert.throws(() => Token.sign(SECRET, SALT, { f: () => 1 }), (e: unknown) => e instanceof Error && !(e instanceof TokenError));
  assert.throws(() => Token.sign(SECRET, SALT, new Date()), /cannot encode/);
});

test("tampering with any of the three parts makes the token invalid", () => {
  const token = Token.sign(SECRET, SALT, { user_id: 42, name: "x" });
  const parts = token.split(".");
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (let p = 0; p < 3; p++) {
    const part = parts[p]!;
    for (const at of [0, Math.floor(part.length / 2), part.length - 1]) {
      const c = part[at]!;
      const replacement = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length]!;
      const copy = [...parts];
      copy[p] = part.slice(0, at) + replacement + part.slice(at + 1);
      rejects(() => Token.verify(SECRET, SALT, copy.join(".")), "invalid", `part ${p} at ${at}`);
    }
  }
  // A non-canonical spelling of the same MAC bytes (different unused low bits) is rejected too.
  const sig = parts[2]!;
  const last = alphabet.indexOf(sig[sig.length - 1]!);
  const alt = alphabet[last ^ 1]!; // 43 chars carry 256 bits + 2 padding bits
  const altSig = sig.slice(0, -1) + alt;
  assert.deepEqual(Buffer.from(altSig, "base64url"), Buffer.from(sig, "base64url"));
  rejects(() => Token.verify(SECRET, SALT, `${parts[0]}.${parts[1]}.${altSig}`), "invalid", "non-canonical");
  // Truncations and extensions.
  rejects(() => Token.verify(SECRET, SALT, token.slice(0, -1)), "invalid");
  rejects(() => Token.verify(SECRET, SALT, token + "A"), "invalid");
  rejects(() => Token.verify(SECRET, SALT, token + "."), "invalid");
  rejects(() => Token.verify(SECRET, SALT, `${parts[0]}.${parts[1]}`), "invalid");
});

test("wrong salt, wrong secret or other key options are invalid", () => {
  const token = Token.sign(SECRET, SALT, 1);
  rejects(() => Token.verify(SECRET, "other salt", token), "invalid");
  rejects(() => Token.verify(SECRET + "x", SALT, token), "invalid");
  rejects(() => Token.verify(SECRET, SALT, token, { keyIterations: 1001 }), "invalid");
  rejects(() => Token.verify(SECRET, SALT, token, { keyDigest: "sha512" }), "invalid");
  const custom = Token.sign(SECRET, SALT, 1, { keyIterations: 10, keyLength: 64, keyDigest: "sha384" });
  assert.equal(Token.verify(SECRET, SALT, custom, { keyIterations: 10, keyLength: 64, keyDigest: "sha384" }), 1);
  rejects(() => Token.verify(SECRET, SALT, custom), "invalid");
});

test("expiry: embedded max age, verify-time override and boundaries", (t) => {
  const now = 1_800_000_000_000;
  t.mock.method(Date, "now", () => now);
  const old = Token.sign(SECRET, SALT, "d", { signedAt: now / 1000 - 100, maxAge: 10 });
  rejects(() => Token.verify(SECRET, SALT, old), "expired");
  assert.equal(Token.verify(SECRET, SALT, old, { maxAge: 1000 }), "d");
  assert.equal(Token.verify(SECRET, SALT, old, { maxAge: Infinity }), "d");
  rejects(() => Token.verify(SECRET, SALT, old, { maxAge: 99.9 }), "expired");
  assert.equal(Token.verify(SECRET, SALT, old, { maxAge: 100 }), "d"); // signed + max_age == now: still valid

  const fresh = Token.sign(SECRET, SALT, "d");
  assert.equal(Token.verify(SECRET, SALT, fresh), "d");
  rejects(() => Token.verify(SECRET, SALT, fresh, { maxAge: 0 }), "expired");
  rejects(() => Token.verify(SECRET, SALT, fresh, { maxAge: -5 }), "expired");
  rejects(() => Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, "d", { maxAge: 0 })), "expired");

  // Default max age is one day.
  const dayOld = Token.sign(SECRET, SALT, "d", { signedAt: now / 1000 - 86_400 });
  assert.equal(Token.verify(SECRET, SALT, dayOld), "d");
  rejects(() => Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, "d", { signedAt: now / 1000 - 86_401 })), "expired");

  // Infinity is embedded as the atom `infinity`.
  const forever = Token.sign(SECRET, SALT, "d", { signedAt: 0, maxAge: Infinity });
  assert.ok(Buffer.from(forever.split(".")[1]!, "base64url").includes(Buffer.from("infinity")));
  assert.equal(Token.verify(SECRET, SALT, forever), "d");
  rejects(() => Token.verify(SECRET, SALT, forever, { maxAge: 60 }), "expired");

  // Signed in the future (even by a millisecond) is invalid.
  rejects(() => Token.verify(SECRET, SALT, Token.sign(SECRET, SALT, "d", { signedAt: now / 1000 + 0.001 })), "invalid");
});

test("legacy payload shapes are accepted with a one-day max age", (t) => {
  const now = 1_800_000_000_000;
  t.mock.method(Date, "now", () => now);
  assert.equal(Token.verify(SECRET, SALT, signRaw(encodeEtf(new EtfTuple(["two", now - 1000])))), "two");
  assert.deepEqual(Token.verify(SECRET, SALT, signRaw(encodeEtf({ data: [1], signed: now }))), [1]);
  rejects(() => Token.verify(SECRET, SALT, signRaw(encodeEtf(new EtfTuple(["two", now - 86_400_001])))), "expired");
  // Properly signed but malformed payloads are invalid, never a crash.
  for (const plaintext of [
    encodeEtf(["list", now, 60]), // a list, not a tuple
    encodeEtf(new EtfTuple(["one"])),
    encodeEtf(new EtfTuple(["four", now, 60, 1])),
    encodeEtf(new EtfTuple(["x", "not a time", 60])),
    encodeEtf(new EtfTuple(["x", now, "soon"])),
    encodeEtf({ data: 1 }),
    encodeEtf("just data"),
    Buffer.from("not etf at all"),
    Buffer.alloc(0),
    Buffer.from([131, 103, 0]),
  ]) {
    rejects(() => Token.verify(SECRET, SALT, signRaw(plaintext)), "invalid", plaintext.toString("hex"));
  }
});

test("missing and garbage tokens", () => {
  rejects(() => Token.verify(SECRET, SALT, null), "missing");
  rejects(() => Token.verify(SECRET, SALT, undefined), "missing");
  rejects(() => Token.verify(SECRET, SALT, ""), "missing");
  const garbage: unknown[] = [
    ".", "..", "...", "a.b.c", "SFMyNTY..", "SFMyNTY.g2gDYSo.", "SFMyNTY.!!!.###", "x", " ", "null",
    "SFMyNTY.abc.def.ghi", "HS256.abc.def", "sfmynty.abc.def", "SFMyNTY.abc def.xyz", "🎉.🎉.🎉",
    "SFMyNTY.g2gDYSpuBgAAaOXPiwFiEswDAA.pRcYxbqGam8wFcp9qyF2HRvo-6KsaMFmSuDeK3oh1e4\n",
    123, {}, [], true, Symbol.iterator,
  ];
  for (const g of garbage) {
    rejects(() => Token.verify(SECRET, SALT, g as string), "invalid", String(g));
  }
});

// A hang or a quadratic blow-up here fails the test by its timeout; speed itself is not asserted.
test("a token of absurd size is rejected", { timeout: 10_000 }, () => {
  const huge = `SFMyNTY.${"A".repeat(20_000_000)}.${"B".repeat(43)}`;
  rejects(() => Token.verify(SECRET, SALT, huge), "invalid");
  rejects(() => Token.verify(SECRET, SALT, ".".repeat(1_000_000)), "invalid");
});

test("short or non-string secrets throw a plain Error at sign and verify time", () => {
  const token = Token.sign(SECRET, SALT, 1);
  for (const secret of ["short", "x".repeat(19)]) {
    for (const fn of [() => Token.sign(secret, SALT, 1), () => Token.verify(secret, SALT, token)]) {
      assert.throws(fn, (e: unknown) => e instanceof Error && !(e instanceof TokenError) && /at least 20 bytes/.test(e.message));
    }
  }
  assert.equal(Token.verify("x".repeat(20), SALT, Token.sign("x".repeat(20), SALT, 1)), 1);
  assert.equal(Token.verify("é".repeat(10), SALT, Token.sign("é".repeat(10), SALT, 1)), 1); // 20 UTF-8 bytes
  assert.throws(() => Token.sign(42 as unknown as string, SALT, 1), TypeError);
  assert.throws(() => Token.verify(SECRET, SALT, token, { maxAge: NaN }), TypeError);
  assert.throws(() => Token.sign(SECRET, SALT, 1, { keyLength: 0 }), TypeError);
  assert.throws(() => Token.sign(SECRET, SALT, 1, { keyDigest: "md5" as "sha256" }), TypeError);
});

test("many secret/salt pairs work with the bounded key cache", () => {
  const tokens = Array.from({ length: 40 }, (_, i) => [`salt ${i}`, Token.sign(SECRET, `salt ${i}`, i)] as const);
  for (const [salt, token] of tokens.reverse()) {
    assert.equal(Token.verify(SECRET, salt, token), Number(salt.slice(5)));
  }
});

test("decoded data cannot pollute prototypes", () => {
  const data = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
  const back = Token.verify<Record<string, unknown>>(SECRET, SALT, Token.sign(SECRET, SALT, data));
  assert.ok(Object.hasOwn(back, "__proto__"));
  assert.equal(Object.getPrototypeOf(back), Object.prototype);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
  // Legacy map payload whose data sits behind a "__proto__" key does not confuse unpacking.
  const tricky = JSON.parse('{"__proto__": {"data": 1, "signed": 0}}');
  rejects(() => Token.verify(SECRET, SALT, signRaw(encodeEtf(tricky))), "invalid");
});

test("fuzz: properly signed garbage payloads only produce TokenError", { timeout: 20_000 }, () => {
  let a = 99;
  const rand = (): number => {
    a = (a * 1103515245 + 12345) >>> 0;
    return a / 2 ** 32;
  };
  const key = pbkdf2Sync(SECRET, SALT, 1000, 32, "sha256");
  const base = encodeEtf(new EtfTuple([{ id: 1, tags: ["a", "b"], n: 2 ** 40 }, Date.now() - 1000, 60]));
  let ok = 0;
  for (let i = 0; i < 2000; i++) {
    const buf = Buffer.from(base);
    for (let e = 0; e < 1 + Math.floor(rand() * 3); e++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? buf.subarray(0, Math.floor(rand() * buf.length)) : buf;
    const input = `SFMyNTY.${cut.toString("base64url")}`;
    const token = `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
    try {
      Token.verify(SECRET, SALT, token);
      ok++;
    } catch (err) {
      assert.ok(err instanceof TokenError, `unexpected ${String(err)}`);
    }
  }
  assert.ok(ok < 2000);
});
