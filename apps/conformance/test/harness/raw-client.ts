// What the two hand-written clients (raw WebSocket, raw long-poll) share: refs, a wire log, and
// the protocol's request/reply steps (join, call, heartbeat) on top of one way to hand the
// server a V2 text frame. They write frames by hand, so tests can send exactly what they mean.

import { asV2, WireLog, type V2 } from "./wire-log.js";
import { short } from "./util.js";

/** A hand-written protocol client over one transport; every frame is recorded in `log`. */
export abstract class RawClient {
  readonly log = new WireLog();
  private refCounter = 0;

  /** The next ref of this client: "1", "2", … */
  nextRef(): string { this.refCounter += 1; return String(this.refCounter); }

  /**
   * Hands one V2 text frame to the server (recorded as "out"); resolves once the transport took
   * it and rejects when it refused it. `event` names the frame in failure messages.
   */
  protected abstract deliver(text: string, event: string): Promise<void>;

  /** Waits for the phx_reply with this ref on this topic. */
  reply(topicName: string, ref: string | null, ms = 3000, fromSeq = 0): Promise<V2> {
    return this.log.wait({ dir: "in", topic: topicName, event: "phx_reply", ref }, `phx_reply ref=${ref} on ${topicName}`, ms, fromSeq)
      .then((e) => asV2(e)!);
  }

  /** V2 request/response: sends the frame with a new ref and waits for its reply. */
  async call(joinRef: string | null, topicName: string, event: string, payload: unknown, ms = 3000): Promise<V2> {
    const ref = this.nextRef();
    const from = this.log.nextSeq;
    await this.deliver(JSON.stringify([joinRef, ref, topicName, event, payload]), event);
    return this.reply(topicName, ref, ms, from);
  }

  /** Joins with join_ref = ref (as phoenix.js does) unless given; returns the reply frame. */
  async join(topicName: string, payload: unknown = {}, joinRef?: string): Promise<{ joinRef: string; reply: V2 }> {
    const ref = this.nextRef();
    const jr = joinRef ?? ref;
    const from = this.log.nextSeq;
    await this.deliver(JSON.stringify([jr, ref, topicName, "phx_join", payload]), "phx_join");
    const reply = await this.reply(topicName, ref, 3000, from);
    return { joinRef: jr, reply };
  }

  /** Joins and asserts an ok reply; returns the join_ref. */
  async joinOk(topicName: string, payload: unknown = {}, joinRef?: string): Promise<string> {
    const { joinRef: jr, reply } = await this.join(topicName, payload, joinRef);
    const p = reply[4] as { status?: string };
    if (p?.status !== "ok") throw new Error(`join ${topicName} expected ok, got ${short(reply)}\n${this.log.dump()}`);
    return jr;
  }

  /** A health check: joins `topicName` and pings on it; throws (naming `what`) unless the ping echoes. */
  async assertJoinAndPing(topicName: string, what: string): Promise<void> {
    const jr = await this.joinOk(topicName);
    const r = await this.call(jr, topicName, "ping", { alive: true });
    if (JSON.stringify(r[4]) !== JSON.stringify({ status: "ok", response: { alive: true } })) {
      throw new Error(`${what}: unexpected ping reply ${short(r)}`);
    }
  }

  /** Heartbeat round trip; returns the reply frame. */
  heartbeat(ms = 2000): Promise<V2> {
    return this.call(null, "phoenix", "heartbeat", {}, ms);
  }
}
