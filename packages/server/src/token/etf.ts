/**
 * A small, defensive codec for the Erlang External Term Format (ETF), covering the subset
 * Phoenix.Token payloads use: integers, floats, binaries (Elixir strings), atoms, lists,
 * tuples and maps. Executable or node-bound terms (funs, exports, pids, ports, refs) are
 * refused. The decoder never reads past its input, caps every length against the bytes
 * that remain, limits nesting depth and decompressed size, and builds maps without
 * touching prototypes.
 */
export { EtfError, EtfAtom, EtfTuple, type EtfDecodeOptions } from "./etf-format.js";
export { encodeEtf } from "./etf-encode.js";
export { decodeEtf } from "./etf-decode.js";
