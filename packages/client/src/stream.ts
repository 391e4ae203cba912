/**
 * Following a stream topic (docs/recovery.md): the client keeps the last position it saw,
 * rejoins from it so the server replays what it missed, and tells the app when it could not
 * (`recovered: false`, a gap). Positions arrive as the ref of broadcasts, `"<epoch>:<offset>"`.
 * While connected, a position that jumps (a publication lost between server and client) or an
 * epoch that changes is a gap too: the follower asks for a rejoin, which recovers it.
 */
import { formatPosition, parsePosition, type StreamParam, type StreamPosition, type StreamReply } from "@cinder/protocol";

/** The position and its wire form are the protocol's (shared with the server). */
export { parsePosition, type StreamPosition } from "@cinder/protocol";

/** Why the app may have missed publications. */
export interface StreamGap {
  /** "rejoin": the server could not replay from our position; "epoch": the stream was reset. */
  readonly reason: "rejoin" | "epoch";
  /** The position we had, or null. */
  readonly from: string | null;
  /** The stream's position now, or null when unknown. */
  readonly position: string | null;
}

/** What to do with an incoming broadcast. */
export type StreamVerdict = "deliver" | "duplicate" | "recover";

/** Options of `channel.useStream()`. */
export interface StreamOptions {
  /**
   * Rejoin (and so recover) when a position jumps while connected (a publication lost between
   * nodes). Default false. Leave it off on channels whose `handleOut` filters intercepted events:
   * those leave holes in the offsets a client sees.
   */
  detectGaps?: boolean;
}

/** The stream state of one channel. */
export class StreamFollower {
  #position: StreamPosition | null = null;
  #recovered: boolean | undefined;
  readonly #gapCallbacks: Array<(gap: StreamGap) => void> = [];
  readonly detectGaps: boolean;

  constructor(options: StreamOptions = {}) {
    this.detectGaps = options.detectGaps ?? false;
  }

  /** The last position seen, `"<epoch>:<offset>"`, or null before the first join. */
  get position(): string | null {
    return this.#position === null ? null : formatPosition(this.#position);
  }

  /** The last join's answer: true when it replayed everything missed; undefined before a join. */
  get recovered(): boolean | undefined {
    return this.#recovered;
  }

  /** Calls `callback` whenever publications may have been missed. */
  onGap(callback: (gap: StreamGap) => void): void {
    this.#gapCallbacks.push(callback);
  }

  /** The join param: our position, or `true` for a first join. */
  joinParam(): StreamParam {
    return this.position ?? true;
  }

  /** Reads the join reply's `stream` field. */
  joined(response: unknown): void {
    const stream = typeof response === "object" && response !== null ? (response as { stream?: unknown }).stream : undefined;
    if (typeof stream !== "object" || stream === null) return;
    const { position, recovered } = stream as { readonly [K in keyof StreamReply]?: unknown };
    const from = this.position;
    this.#recovered = recovered === true;
    if (from !== null && recovered !== true) this.#gap({ reason: "rejoin", from, position: typeof position === "string" ? position : null });
    const next = parsePosition(position);
    if (next !== null) this.#position = next;
  }

  /** Judges a broadcast with `ref`: deliver it (moving on), drop a duplicate, or recover a gap first. */
  receive(ref: unknown): StreamVerdict {
    const next = parsePosition(ref);
    if (next === null) return "deliver";
    const current = this.#position;
    if (current === null) {
      this.#position = next;
      return "deliver";
    }
    if (next.epoch === current.epoch) {
      if (next.offset <= current.offset) return "duplicate";
      if (next.offset === current.offset + 1 || !this.detectGaps) {
        this.#position = next;
        return "deliver";
      }
      return "recover";
    }
    // Another epoch: the stream was reset and what came before cannot be replayed.
    this.#gap({ reason: "epoch", from: this.position, position: formatPosition(next) });
    this.#position = next;
    return "deliver";
  }

  #gap(gap: StreamGap): void {
    for (const callback of this.#gapCallbacks) callback(gap);
  }
}
