/** Stream positions: the wire form the server writes is the one the client reads back, and nothing else is a position. */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPosition, parsePosition } from "../src/index.js";

const epoch = fc.stringMatching(/^[a-z0-9]{1,32}$/);
const offset = fc.nat({ max: Number.MAX_SAFE_INTEGER });

test("a formatted position parses back to itself", () => {
  fc.assert(fc.property(epoch, offset, (e, o) => {
    assert.deepEqual(parsePosition(formatPosition({ epoch: e, offset: o })), { epoch: e, offset: o });
  }), { numRuns: 500 });
});

test("anything but \"<epoch>:<offset>\" is no position: message refs, empty parts, other spellings of numbers", () => {
  for (const value of [null, undefined, 5, "5", "", ":", "a:", ":1", "A:1", "a b:1", "a:-1", "a:01", "a:1e3", "a:1.5", "a: 1",
    "a:99999999999999999", `${"a".repeat(33)}:1`, `a:${"1".repeat(70)}`]) {
    assert.equal(parsePosition(value), null, JSON.stringify(value));
  }
  assert.deepEqual(parsePosition("x:y:3"), null, "an epoch holds no colon");
  assert.deepEqual(parsePosition("ab12:0"), { epoch: "ab12", offset: 0 });
});
