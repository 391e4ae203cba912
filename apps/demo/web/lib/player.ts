/**
 * Video players behind one interface: a `<video>` element for direct video URLs, and the
 * YouTube iframe API for YouTube links — loaded lazily, only when such a video is opened (it is
 * the one external resource the apps use; offline it fails and the page says so).
 */
import { h } from "./dom.js";

/** A player the annotations follow. */
export interface Player {
  /** The element to put on the page. */
  readonly element: HTMLElement;
  /** Resolves once the player can report its time and seek; rejects with a readable message. */
  readonly ready: Promise<void>;
  /** The playback position, in ms. */
  currentMs(): number;
  /** Seeks to `ms`. */
  seek(ms: number): void;
  /** The video's length in ms (0 while unknown). */
  durationMs(): number;
  /** True while playing. */
  isPlaying(): boolean;
  /** Calls `callback` when the position jumps or changes (in addition to polling). */
  onTimeChange(callback: () => void): void;
}

/** The YouTube video id of a YouTube link, or undefined for any other URL. */
export function youtubeId(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, location.origin);
  } catch {
    return undefined;
  }
  const host = parsed.hostname.replace(/^(www|m|music)\./, "");
  let id: string | null | undefined;
  if (host === "youtu.be") id = parsed.pathname.split("/")[1];
  else if (host === "youtube.com" || host === "youtube-nocookie.com") {
    if (parsed.pathname === "/watch") id = parsed.searchParams.get("v");
    else {
      const match = /^\/(?:embed|shorts|live|v)\/([^/?#]+)/.exec(parsed.pathname);
      id = match?.[1];
    }
  }
  return id !== null && id !== undefined && /^[A-Za-z0-9_-]{6,20}$/.test(id) ? id : undefined;
}

/** True for http(s) URLs and same-site paths: the only sources a `<video>` gets. */
export function playableUrl(url: string): boolean {
  if (url.startsWith("/") && !url.startsWith("//")) return true;
  try {
    const { protocol } = new URL(url);
    return protocol === "http:" || protocol === "https:";
  } catch {
    return false;
  }
}

/** A player for `url`: YouTube for YouTube links, else a `<video>`. */
export function createPlayer(url: string, title: string): Player {
  const id = youtubeId(url);
  return id === undefined ? html5Player(url, title) : youtubePlayer(id, title);
}

function html5Player(url: string, title: string): Player {
  const video = h("video", { id: "player", class: "player-video", controls: true, preload: "auto", playsinline: true, "aria-label": title });
  if (playableUrl(url)) video.src = url;
  const ready = new Promise<void>((resolve, reject) => {
    if (!playableUrl(url)) {
      reject(new Error("This video's address is not a web address, so it cannot be played."));
      return;
    }
    if (video.readyState >= HTMLMediaElement.HAVE_METADATA) resolve();
    video.addEventListener("loadedmetadata", () => resolve(), { once: true });
    video.addEventListener("error", () => {
      reject(new Error("The video could not be loaded. The link may be broken, or the format is not supported by this browser."));
    }, { once: true });
  });
  return {
    element: h("div", { class: "player-frame" }, video),
    ready,
    currentMs: () => Math.floor(video.currentTime * 1000),
    seek: (ms) => { video.currentTime = ms / 1000; },
    durationMs: () => (Number.isFinite(video.duration) ? Math.floor(video.duration * 1000) : 0),
    isPlaying: () => !video.paused && !video.ended,
    onTimeChange: (callback) => {
      for (const event of ["timeupdate", "seeking", "seeked", "play", "pause"]) video.addEventListener(event, callback);
    },
  };
}

/** The part of the YouTube iframe API the page uses. */
interface YouTubePlayer {
  getCurrentTime(): number;
  seekTo(seconds: number, allowSeekAhead: boolean): void;
  getDuration(): number;
  /** 1 while playing. */
  getPlayerState(): number;
}

interface YouTubeNamespace {
  Player: new (element: HTMLElement, options: {
    videoId: string;
    width?: string;
    height?: string;
    playerVars?: Record<string, number | string>;
    events?: { onReady?: () => void; onError?: (event: { data: number }) => void; onStateChange?: () => void };
  }) => YouTubePlayer;
}

declare global {
  interface Window {
    YT?: YouTubeNamespace;
    onYouTubeIframeAPIReady?: () => void;
  }
}

const YOUTUBE_API = "https://www.youtube.com/iframe_api";
let youtubeApi: Promise<YouTubeNamespace> | undefined;

/** Loads the YouTube iframe API once (10 s at most). */
function loadYouTubeApi(): Promise<YouTubeNamespace> {
  youtubeApi ??= new Promise<YouTubeNamespace>((resolve, reject) => {
    if (window.YT?.Player !== undefined) {
      resolve(window.YT);
      return;
    }
    const fail = (): void => {
      youtubeApi = undefined;
      reject(new Error("The YouTube player could not be loaded. YouTube videos need an internet connection; check yours and reload the page."));
    };
    const timer = setTimeout(fail, 10_000);
    const previous = window.onYouTubeIframeAPIReady;
    window.onYouTubeIframeAPIReady = () => {
      clearTimeout(timer);
      previous?.();
      if (window.YT !== undefined) resolve(window.YT);
      else fail();
    };
    const script = h("script", { src: YOUTUBE_API, async: true });
    script.addEventListener("error", () => {
      clearTimeout(timer);
      fail();
    });
    document.head.append(script);
  });
  return youtubeApi;
}

const YOUTUBE_ERRORS: Record<number, string> = {
  2: "YouTube says this video id is invalid.",
  5: "YouTube could not play this video in the page.",
  100: "This YouTube video was removed or is private.",
  101: "The owner of this YouTube video does not allow playing it on other sites.",
  150: "The owner of this YouTube video does not allow playing it on other sites.",
};

function youtubePlayer(videoId: string, title: string): Player {
  const target = h("div", { id: "player", "aria-label": title });
  const element = h("div", { class: "player-frame youtube" }, target);
  let player: YouTubePlayer | undefined;
  const callbacks: Array<() => void> = [];
  const ready = loadYouTubeApi().then((YT) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("The YouTube player did not start. Check your connection and reload the page.")), 20_000);
    player = new YT.Player(target, {
      videoId, width: "100%", height: "100%",
      playerVars: { playsinline: 1, rel: 0, origin: location.origin },
      events: {
        onReady: () => {
          clearTimeout(timer);
          resolve();
        },
        onError: (event) => {
          clearTimeout(timer);
          reject(new Error(YOUTUBE_ERRORS[event.data] ?? "YouTube could not play this video."));
        },
        onStateChange: () => { for (const callback of callbacks) callback(); },
      },
    });
  }));
  return {
    element,
    ready,
    currentMs: () => Math.floor((player?.getCurrentTime() ?? 0) * 1000),
    seek: (ms) => player?.seekTo(ms / 1000, true),
    durationMs: () => Math.floor((player?.getDuration() ?? 0) * 1000),
    isPlaying: () => player?.getPlayerState() === 1,
    onTimeChange: (callback) => { callbacks.push(callback); },
  };
}
