/**
 * The Erlang External Term Format's tags, limits and shared types, for the codec in
 * `etf-encode.ts` and `etf-decode.ts`.
 */

/** ETF tag VERSION. */
export const VERSION = 131;
/** ETF tag NEW_FLOAT_EXT. */
export const NEW_FLOAT_EXT = 70;
/** ETF tag COMPRESSED. */
export const COMPRESSED = 80;
/** ETF tag SMALL_INTEGER_EXT. */
export const SMALL_INTEGER_EXT = 97;
/** ETF tag INTEGER_EXT. */
export const INTEGER_EXT = 98;
/** ETF tag ATOM_EXT. */
export const ATOM_EXT = 100;
/** ETF tag SMALL_TUPLE_EXT. */
export const SMALL_TUPLE_EXT = 104;
/** ETF tag LARGE_TUPLE_EXT. */
export const LARGE_TUPLE_EXT = 105;
/** ETF tag NIL_EXT. */
export const NIL_EXT = 106;
/** ETF tag STRING_EXT. */
export const STRING_EXT = 107;
/** ETF tag LIST_EXT. */
export const LIST_EXT = 108;
/** ETF tag BINARY_EXT. */
export const BINARY_EXT = 109;
/** ETF tag SMALL_BIG_EXT. */
export const SMALL_BIG_EXT = 110;
/** ETF tag LARGE_BIG_EXT. */
export const LARGE_BIG_EXT = 111;
/** ETF tag SMALL_ATOM_EXT. */
export const SMALL_ATOM_EXT = 115;
/** ETF tag MAP_EXT. */
export const MAP_EXT = 116;
/** ETF tag ATOM_UTF8_EXT. */
export const ATOM_UTF8_EXT = 118;
/** ETF tag SMALL_ATOM_UTF8_EXT. */
export const SMALL_ATOM_UTF8_EXT = 119;

/** Names of tags the decoder recognises but refuses, for clearer error messages. */
export const REFUSED_TAGS: Readonly<Record<number, string>> = {
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
export const DEFAULT_MAX_DEPTH = 512;
/** Default cap on the declared uncompressed size of a compressed term (bytes). */
export const DEFAULT_MAX_INFLATED = 16 * 1024 * 1024;

/** min int32. */
export const MIN_INT32 = -0x8000_0000;
/** max int32. */
export const MAX_INT32 = 0x7fff_ffff;
/** max safe. */
export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** min safe. */
export const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** utf8strict. */
export const utf8Strict = new TextDecoder("utf-8", { fatal: true });

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
