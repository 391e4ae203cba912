/**
 * The fastlane (Phoenix's `Channel.Server.dispatch`): a broadcast that no channel intercepts is
 * encoded once per serializer and the same `Frame` is written to every subscriber on this node.
 * This module is the only owner of that cache. PubSub hands every subscriber of one dispatch the
 * same `BroadcastMessage` object, so the cache is keyed by that object: it holds the frames of
 * the broadcast being dispatched (one per serializer that asked), and a new broadcast replaces
 * them, so at most one broadcast's frames are held. (A broadcast sent synchronously from inside
 * another's dispatch makes the outer one encode again: still correct, only slower.) Only the
 * channel layer encodes broadcasts; PubSub carries them as opaque values.
 */
import type { Logger } from "../logger.js";
import { diagnostics } from "../diagnostics.js";
import { formatPosition } from "../history/index.js";
import type { BroadcastMessage } from "../pubsub/index.js";
import type { Frame, Serializer } from "../serializer/index.js";

/** What the fastlane needs to report a broadcast it cannot encode. */
export interface FastlaneReporter {
  readonly logger: Logger;
  /** The endpoint's id, for the `cinder:error` diagnostics event. */
  readonly endpointId: string;
}

/** The broadcast whose frames are cached, and its frame per serializer (null: it cannot be encoded). */
let current: BroadcastMessage | undefined;
const frames = new Map<Serializer, Frame | null>();
/** The same broadcast's frames with its stream position as the ref, for clients that follow the stream. */
const positioned = new Map<Serializer, Frame | null>();

/**
 * The frame of `broadcast` in `serializer`'s format, encoded on the first call for this broadcast
 * and format and shared afterwards; null when it cannot be encoded (logged once per format).
 * With `withPosition` (a client that joined a stream topic with the `stream` param), a broadcast
 * on a stream topic carries its position as the frame's ref (docs/recovery.md); every other
 * client gets the plain Phoenix broadcast frame.
 */
export function fastlaneFrame(broadcast: BroadcastMessage, serializer: Serializer, reporter: FastlaneReporter, withPosition = false): Frame | null {
  if (broadcast !== current) {
    current = broadcast;
    frames.clear();
    positioned.clear();
  }
  const position = withPosition ? broadcast.position : undefined;
  const cache = position === undefined ? frames : positioned;
  let frame = cache.get(serializer);
  if (frame === undefined) {
    frame = encodeBroadcast(broadcast, serializer, reporter, position !== undefined);
    cache.set(serializer, frame);
  }
  return frame;
}

/** How many replayed broadcasts keep their frames (per serializer, the most recent ones). */
const REPLAY_CACHE_SIZE = 4096;
/** Frames of replayed broadcasts (publications read from the history, live ones held back during a join), in insertion order. */
const replayed = new Map<Serializer, Map<BroadcastMessage, Frame | null>>();

/**
 * The frame of a broadcast replayed to a stream client on its join (always with its position).
 * Clients that come back together replay the same publication objects one after another
 * (`SinceReads` shares one read among them, held-back live broadcasts are shared too), so
 * their frames are kept in a small bounded cache instead of the fastlane's single slot.
 */
export function replayFrame(broadcast: BroadcastMessage, serializer: Serializer, reporter: FastlaneReporter): Frame | null {
  if (broadcast === current) return fastlaneFrame(broadcast, serializer, reporter, true);
  let cache = replayed.get(serializer);
  if (cache === undefined) {
    cache = new Map();
    replayed.set(serializer, cache);
  }
  let frame = cache.get(broadcast);
  if (frame === undefined) {
    frame = encodeBroadcast(broadcast, serializer, reporter, broadcast.position !== undefined);
    if (cache.size >= REPLAY_CACHE_SIZE) cache.delete(cache.keys().next().value as BroadcastMessage);
    cache.set(broadcast, frame);
  }
  return frame;
}

function encodeBroadcast(broadcast: BroadcastMessage, serializer: Serializer, reporter: FastlaneReporter, withPosition: boolean): Frame | null {
  const position = withPosition ? broadcast.position : undefined;
  try {
    return position === undefined
      ? serializer.fastlane(broadcast)
      : serializer.encode({ join_ref: null, ref: formatPosition(position), topic: broadcast.topic, event: broadcast.event, payload: broadcast.payload });
  } catch (error) {
    reporter.logger.error({ topic: broadcast.topic, event: broadcast.event, err: error }, "broadcast cannot be encoded; dropped");
    if (diagnostics.error.hasSubscribers) diagnostics.error.publish({ endpoint: reporter.endpointId, kind: "encode", topic: broadcast.topic });
    return null;
  }
}
