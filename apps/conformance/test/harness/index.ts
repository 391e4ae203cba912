// The harness of the Phoenix-protocol conformance suite, one file per part:
//
// - servers.ts: the server under test (spawned, or CINDER_CONFORMANCE_URL), one per test file,
//   and the per-test cleanup of the clients a test created.
// - wire-log.ts: the log of every frame a test client sent and received, with matching, bounded
//   waits and readable dumps (every wait is bounded; failures print the frames seen so far).
// - binary.ts: the suite's own V2 binary codec (an oracle: independent of @cinder/protocol).
// - raw-client.ts: what the hand-written clients share (refs, join, call, heartbeat);
//   raw-websocket.ts and raw-longpoll.ts: that client over a `ws` WebSocket (exact V1/V2/binary
//   frames, bare handshakes) and over long-poll HTTP requests.
// - clients.ts: phoenix.js and @cinder/client (CINDER_CONFORMANCE_CLIENTS) over a recording
//   WebSocket or LongPoll (recording.ts), and clientSuite(), the body of the per-client test files
//   (`<area>.phoenix.test.ts`, `<area>.cinder.test.ts`), which run an area's client-driven
//   scenarios (`<area>.scenarios.ts`) with one client, in a process (and against a server) of their own.
// - util.ts: bounded waits, unique topics.

export * from "./util.js";
export * from "./binary.js";
export * from "./wire-log.js";
export * from "./servers.js";
export * from "./raw-client.js";
export * from "./raw-websocket.js";
export * from "./raw-longpoll.js";
export * from "./recording.js";
export * from "./clients.js";
