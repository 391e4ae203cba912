/** Public entry point of the signed-token module (Phoenix.Token-compatible tokens). */
export { Token, TokenError } from "./token.js";
export type { TokenErrorReason, SignOptions, VerifyOptions, KeyDigest } from "./token.js";
