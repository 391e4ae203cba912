/** Connect params and the auth token: what the client puts on the handshake, the server reads back. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { AUTH_TOKEN_PREFIX, authTokenProtocol, decodeParams, encodeParams, readAuthToken } from "../src/index.js";

const key = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !/[[\]]/.test(k));
/** Params as the server reads them back: string leaves, nested objects (no arrays, no nulls). */
const params = fc.letrec((tie) => ({
  node: fc.dictionary(key, fc.oneof({ depthSize: "small" }, fc.string({ maxLength: 12 }), tie("node")), { maxKeys: 4 }),
})).node;

test("params encoded by the client decode on the server to the same nested strings", () => {
  fc.assert(fc.property(params, (sent) => {
    assert.deepEqual(JSON.parse(JSON.stringify(decodeParams(encodeParams(sent)))), JSON.parse(JSON.stringify(dropEmpty(sent))));
  }), { numRuns: 500 });
});

/** Empty nested objects leave no trace in a query string. */
function dropEmpty(value: Record<string, unknown>): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>; // "__proto__" is a key like any other
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string") out[k] = v;
    else {
      const inner = dropEmpty(v as Record<string, unknown>);
      if (Object.keys(inner).length > 0) out[k] = inner;
    }
  }
  return out;
}

test("params: phoenix.js's encoding (nesting, arrays, nulls); Plug's reading (last duplicate wins, no prototype)", () => {
  assert.equal(encodeParams({ a: 1, user: { name: "é b", tags: ["x", "y"] }, gone: null }),
    "a=1&user%5Bname%5D=%C3%A9%20b&user%5Btags%5D%5B0%5D=x&user%5Btags%5D%5B1%5D=y&");
  const read = decodeParams("a=1&a=2&__proto__[polluted]=yes&user[name]=x");
  assert.equal(read.a, "2");
  assert.equal(Object.getPrototypeOf(read), null);
  assert.deepEqual({ ...(read["__proto__"] as object) }, { polluted: "yes" });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("the auth token rides as an unpadded base64 subprotocol and reads back from a list or a header", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (token) => {
    const protocol = authTokenProtocol(token);
    assert.ok(protocol.startsWith(AUTH_TOKEN_PREFIX) && !protocol.endsWith("="));
    assert.equal(readAuthToken(["phoenix", protocol]), token);
    assert.equal(readAuthToken(`phoenix, ${protocol}`), token);
  }), { numRuns: 300 });
  assert.equal(readAuthToken(["phoenix"]), undefined);
  assert.equal(readAuthToken([`${AUTH_TOKEN_PREFIX}not base64!`]), undefined);
});
