/**
 * The cluster suite shared by the single-Redis and the Redis Cluster runs: three conformance
 * nodes with phoenix.js clients on different nodes. Cross-node broadcast, broadcastFrom,
 * endpoint broadcasts, `"disconnect"` by socket id, presence everywhere, and a SIGKILLed node
 * whose members leave after the down period.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { call, connect, startNode, until, type Client, type Node } from "./cluster.js";

/** Where the nodes find Redis: a URL, plus environment (e.g. `CINDER_REDIS_CLUSTER`). */
export interface EngineUnderTest {
  url: string;
  env: Record<string, string>;
}

/** Three nodes: broadcasts, broadcastFrom, disconnect and presence cross nodes; a killed node's members leave. */
export async function threeNodes(engine: EngineUnderTest): Promise<void> {
  const namespace = `cinder-cluster-${randomBytes(4).toString("hex")}`;
  const nodes: Node[] = await Promise.all(["n1", "n2", "n3"].map((name) => startNode(name, engine.url, namespace, engine.env)));
  const clients: Client[] = [];
  try {
    const [n1, n2, n3] = nodes as [Node, Node, Node];
    const alice = connect(n1, "alice", "lobby");
    const bob = connect(n2, "bob", "lobby");
    const carol = connect(n3, "carol", "lobby");
    clients.push(alice, bob, carol);
    for (const client of clients) await until(() => client.keys().join() === "alice,bob,carol", 8000, "every member listed on every node");

    alice.echo.push("broadcast", { from: "alice" });
    for (const client of clients) await until(() => client.events.some(([e, p]) => e === "broadcasted" && (p as { from: string }).from === "alice"), 3000, "a cross-node broadcast");

    bob.echo.push("broadcast_from", { from: "bob" });
    await until(() => alice.events.some(([, p]) => (p as { from: string }).from === "bob") && carol.events.some(([, p]) => (p as { from: string }).from === "bob"), 3000, "broadcastFrom on the other nodes");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(!bob.events.some(([, p]) => (p as { from: string }).from === "bob"), "the sender does not get its own broadcastFrom");

    const response = await fetch(`http://127.0.0.1:${n2.port}/broadcast`, {
      method: "POST", body: JSON.stringify({ topic: "echo:lobby", event: "broadcasted", payload: { from: "endpoint" } }),
    });
    assert.equal(response.status, 204);
    for (const client of clients) await until(() => client.events.some(([, p]) => (p as { from: string }).from === "endpoint"), 3000, "an endpoint broadcast on every node");

    const aliceElsewhere = connect(n3, "alice", "other");
    clients.push(aliceElsewhere);
    await until(() => aliceElsewhere.socket.isConnected(), 3000, "alice's second socket");
    await call(alice.echo, "disconnect_me", {});
    await until(() => alice.closeCodes.includes(1001) && aliceElsewhere.closeCodes.includes(1001), 3000, "both of alice's sockets closed with 1001");
    assert.ok(!bob.closeCodes.includes(1001) && !carol.closeCodes.includes(1001));

    await until(() => bob.keys().join() === "alice,bob,carol", 5000, "alice back after reconnecting");
    carol.socket.disconnect();
    await until(() => bob.keys().join() === "alice,bob", 3000, "carol's clean leave");
    const dave = connect(n3, "dave", "lobby");
    clients.push(dave);
    await until(() => alice.keys().includes("dave") && bob.keys().includes("dave"), 5000, "dave on n3 visible everywhere");
    const killedAt = Date.now();
    await n3.stop("SIGKILL");
    const left = await until(() => !alice.keys().includes("dave") && !bob.keys().includes("dave"), 8000, "n3's members to leave after the down period");
    assert.ok(Date.now() - killedAt >= 900, `not before the down period (${left} ms)`);
  } finally {
    for (const client of clients) client.socket.disconnect();
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
  }
}
