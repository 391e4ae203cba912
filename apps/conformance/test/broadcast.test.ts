// docs/protocol.md §10 item 26 (raw): POST to a path other than /broadcast. The client-driven broadcast scenarios
// (22–26, 35, 36) are in broadcast.scenarios.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { httpPost, useServer } from "./harness/index.js";

const server = useServer();

test("POST to a path other than /broadcast → 404 (item 26)", { timeout: 10_000 }, async () => {
  const res = await httpPost(server, "/nope", { topic: "echo:x", event: "e", payload: {} });
  assert.equal(res.status, 404);
});
