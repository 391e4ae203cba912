/**
 * Interop tests against Erlang: fixtures produced by an Erlang/OTP script (crypto:pbkdf2_hmac,
 * term_to_binary, crypto:mac) must verify here, and tokens signed here must verify in `erl`
 * (skipped when `erl` is not installed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { Token, TokenError, type VerifyOptions } from "../src/token/index.js";

interface Fixture {
  name: string;
  salt: string;
  token: string;
  signed_at_ms: number;
  max_age: number | string | null;
  expect: "ok" | "ok_with_infinite_max_age" | "expired" | "invalid";
  verify_options?: VerifyOptions;
  expected: unknown;
}

const fixtures = JSON.parse(
  readFileSync(new URL("../../test/fixtures/phoenix-tokens.json", import.meta.url), "utf8"),
  (_key, value: unknown) => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      if (typeof v["$bigint"] === "string") return BigInt(v["$bigint"]);
      if (Array.isArray(v["$bytes"])) return Uint8Array.from(v["$bytes"] as number[]);
    }
    return value;
  },
) as { secret: string; tokens: Fixture[] };

test("Erlang-generated Phoenix tokens verify", () => {
  assert.ok(fixtures.tokens.length >= 10);
  for (const f of fixtures.tokens) {
    const opts = f.verify_options ?? {};
    const run = (extra: VerifyOptions = {}): unknown => Token.verify(fixtures.secret, f.salt, f.token, { ...opts, ...extra });
    switch (f.expect) {
      case "ok":
        assert.deepStrictEqual(run(), f.expected, f.name);
        break;
      case "ok_with_infinite_max_age":
        assert.deepStrictEqual(run({ maxAge: Infinity }), f.expected, f.name);
        // Legacy shapes carry a one-day max age; these were signed in 2023.
        assert.throws(() => run(), (e: unknown) => e instanceof TokenError && e.reason === "expired", f.name);
        break;
      default:
        assert.throws(() => run(), (e: unknown) => e instanceof TokenError && e.reason === f.expect, f.name);
    }
    if (f.expect !== "invalid") {
      assert.throws(() => Token.verify(fixtures.secret, f.salt + "!", f.token, opts),
        (e: unknown) => e instanceof TokenError && e.reason === "invalid");
    }
  }
  const compressed = fixtures.tokens.find((f) => f.name === "compressed")!;
  assert.equal(Buffer.from(compressed.token.split(".")[1]!, "base64url")[1], 80, "fixture is compressed");
  const complex = Token.verify<Record<string, unknown>>(fixtures.secret, "user socket",
    fixtures.tokens.find((f) => f.name === "complex")!.token);
  assert.ok(Object.hasOwn(complex, "__proto__"));
  assert.equal(Object.getPrototypeOf(complex), Object.prototype);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
});

const ERL_VERIFIER = String.raw`#!/usr/bin/env escript
%% -*- coding: utf-8 -*-
%% Verifies Phoenix.Token-format tokens read from a file of {Secret, Salt, [{Token, Data, MaxAge}]}.
-mode(compile).
unb64(B) ->
    S = binary:replace(binary:replace(B, <<"-">>, <<"+">>, [global]), <<"_">>, <<"/">>, [global]),
    Pad = case byte_size(S) rem 4 of 0 -> <<>>; 2 -> <<"==">>; 3 -> <<"=">> end,
    base64:decode(<<S/binary, Pad/binary>>).
b64(B) -> binary:replace(binary:replace(binary:replace(base64:encode(B), <<"+">>, <<"-">>, [global]),
                                         <<"/">>, <<"_">>, [global]), <<"=">>, <<>>, [global]).
check(Secret, Salt, {Token, Data, MaxAge}) ->
    [<<"SFMyNTY">>, Payload, Sig] = binary:split(Token, <<".">>, [global]),
    Key = crypto:pbkdf2_hmac(sha256, Secret, Salt, 1000, 32),
    Sig = b64(crypto:mac(hmac, sha256, Key, <<"SFMyNTY.", Payload/binary>>)),
    Plain = unb64(Payload),
    {Data, Signed, MaxAge} = binary_to_term(Plain, [safe]),
    true = is_integer(Signed) andalso Signed =< erlang:system_time(millisecond),
    ok.
main([File]) ->
    {ok, [{Secret, Salt, Cases}]} = file:consult(File),
    try [check(Secret, Salt, C) || C <- Cases] of
        _ -> io:format("verified ~b~n", [length(Cases)])
    catch Class:Reason:Stack -> io:format("FAILED ~p:~p ~p~n", [Class, Reason, Stack]), halt(1)
    end.
`;

function which(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

test("TypeScript-signed tokens verify in Erlang", (t) => {
  if (!which("erl") || !which("escript")) {
    t.skip("erl not found");
    return;
  }
  const secret = "cinder-interop-secret-0123456789abcdef";
  const salt = "ünï salt";
  const cases: Array<[unknown, string, number | "infinity"]> = [
    [42, "42", 86_400],
    ["hello", `<<"hello">>`, 86_400],
    [
      { user_id: 123, name: "José 🎉", big: 2 ** 40, huge: 2n ** 70n, neg: -5_000_000_000, i32: -70_000,
        f: 1.5, t: true, no: false, n: null, list: [1, "a", [], {}], nested: { deep: { x: ["y"] } } },
      `#{<<"user_id">> => 123, <<"name">> => <<"José 🎉"/utf8>>, <<"big">> => 1099511627776,
         <<"huge">> => 1180591620717411303424, <<"neg">> => -5000000000, <<"i32">> => -70000,
         <<"f">> => 1.5, <<"t">> => true, <<"no">> => false, <<"n">> => nil,
         <<"list">> => [1, <<"a">>, [], #{}], <<"nested">> => #{<<"deep">> => #{<<"x">> => [<<"y">>]}}}`,
      600,
    ],
    [["x", -0.25], `[<<"x">>, -0.25]`, "infinity"],
  ];
  const erlBin = (s: string): string => `<<"${s}"/utf8>>`;
  const terms = cases.map(([data, erl, maxAge]) => {
    const token = Token.sign(secret, salt, data, { maxAge: maxAge === "infinity" ? Infinity : maxAge });
    return `{<<"${token}">>, ${erl}, ${maxAge}}`;
  });
  const dir = mkdtempSync(join(tmpdir(), "cinder-token-"));
  try {
    writeFileSync(join(dir, "verify.escript"), ERL_VERIFIER);
    writeFileSync(join(dir, "cases.txt"),
      `%% -*- coding: utf-8 -*-\n{${erlBin(secret)}, ${erlBin(salt)}, [\n${terms.join(",\n")}\n]}.\n`);
    const result = spawnSync("escript", [join(dir, "verify.escript"), join(dir, "cases.txt")], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(result.status, 0, `escript failed: ${result.stdout}${result.stderr}`);
    assert.match(result.stdout, new RegExp(`verified ${cases.length}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
