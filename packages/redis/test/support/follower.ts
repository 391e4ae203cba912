/** Test support: a phoenix.js follower of one stream topic that keeps its position across nodes. */
import { Socket, type Channel } from "phoenix";
import { WebSocket } from "ws";
import type { Node } from "./cluster.js";

/** The `stream` part of a join reply on a stream topic. */
export interface StreamReply { position: string | null; recovered: boolean }

/** A phoenix.js follower of one stream topic that can move between nodes, keeping its position. */
export class Follower {
  readonly received: number[] = [];
  readonly replies: StreamReply[] = [];
  readonly refs: string[] = [];
  position: string | true = true;
  private socket: Socket | undefined;
  private channel: Channel | undefined;

  constructor(private readonly topic: string) {}

  /** Connects to `node` and joins with the last position seen (a params closure, as the README shows). */
  connectTo(node: Node): void {
    this.socket?.disconnect();
    const socket = new Socket(`ws://127.0.0.1:${node.port}/socket`, { transport: WebSocket, reconnectAfterMs: () => 50, rejoinAfterMs: () => 50 });
    const channel = socket.channel(this.topic, () => ({ stream: this.position }));
    channel.on("n", (payload: { n: number }, ref?: string | null) => {
      this.received.push(payload.n);
      if (typeof ref === "string") {
        this.position = ref;
        this.refs.push(ref);
      }
    });
    channel.join().receive("ok", (response: { stream: StreamReply }) => {
      this.replies.push(response.stream);
      if (response.stream.position !== null) this.position = response.stream.position;
    });
    socket.connect();
    this.socket = socket;
    this.channel = channel;
  }

  /** Cuts the connection and stays away. */
  cut(): void {
    this.socket?.disconnect();
    this.socket = undefined;
  }

  get joined(): boolean {
    return this.channel?.state === "joined" && this.socket !== undefined;
  }
}

