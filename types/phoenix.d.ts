// Minimal typings for the parts of the official `phoenix` npm client (1.8.16) the suite uses.
// The package ships no types.
declare module "phoenix" {
  export type Params = Record<string, unknown>;
  export type ParamsOrFn = Params | (() => Params);

  export interface SocketOptions {
    transport?: unknown;
    params?: ParamsOrFn;
    timeout?: number;
    heartbeatIntervalMs?: number;
    reconnectAfterMs?: (tries: number) => number;
    rejoinAfterMs?: (tries: number) => number;
    logger?: (kind: string, msg: string, data: unknown) => void;
    vsn?: string;
    binaryType?: string;
    authToken?: string | (() => string);
    /** connect with the given transport, fall back to LongPoll after this many ms (§5.6) */
    longPollFallbackMs?: number;
    /** LongPoll request timeout (default 20 000 ms) */
    longpollerTimeout?: number;
    /** where the fallback choice is memorized (`phx:fallback:LongPoll`); absent in Node */
    sessionStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  }

  /** phoenix.js's LongPoll transport (a WebSocket look-alike over HTTP, §4). */
  export class LongPoll {
    constructor(endPoint: string, protocols?: string[]);
    /** the session token (null before the first 410) */
    token: string | null;
    /** the http(s) `/longpoll` URL with the connect params */
    pollEndpoint: string;
    /** 0 connecting, 1 open, 2 closing, 3 closed */
    readyState: number;
    /** request timeout (set by the Socket from `longpollerTimeout`) */
    timeout: number;
    skipHeartbeat: boolean;
    authToken?: string;
    onopen: (event: unknown) => void;
    onerror: (error: unknown) => void;
    onmessage: (event: { data: string }) => void;
    onclose: (event: { code: number; reason: string; wasClean: boolean }) => void;
    /** `pollEndpoint` plus `token=<session token>` */
    endpointURL(): string;
    poll(): void;
    send(body: string | ArrayBuffer): void;
    close(code?: number, reason?: string, wasClean?: boolean): void;
    /** one HTTP request: `callback` gets the parsed JSON body, or null */
    ajax(method: string, headers: Record<string, string>, body: string | null,
      onCallerTimeout: () => void, callback: (response: any) => void): void;
  }

  export interface Message {
    join_ref: string | null;
    ref: string | null;
    topic: string;
    event: string;
    payload: unknown;
  }

  export class Push {
    ref: string | null;
    receive(status: string, callback: (response: any) => void): Push;
  }

  export class Channel {
    topic: string;
    state: "closed" | "joining" | "joined" | "errored" | "leaving";
    join(timeout?: number): Push;
    leave(timeout?: number): Push;
    push(event: string, payload: object | ArrayBuffer, timeout?: number): Push;
    on(event: string, callback: (payload: any, ref?: string | null, joinRef?: string | null) => void): number;
    off(event: string, ref?: number): void;
    onClose(callback: (reason: unknown) => void): void;
    onError(callback: (reason: unknown) => void): number;
    joinRef(): string | null;
  }

  export class Socket {
    constructor(endPoint: string, opts?: SocketOptions);
    connect(): void;
    disconnect(callback?: () => void, code?: number, reason?: string): void;
    isConnected(): boolean;
    connectionState(): string;
    endPointURL(): string;
    channel(topic: string, params?: ParamsOrFn): Channel;
    onOpen(callback: () => void): string;
    onClose(callback: (event: unknown) => void): string;
    onError(callback: (error: unknown, transport?: unknown, establishedConnections?: number) => void): string;
    onMessage(callback: (msg: Message) => void): string;
    ping(callback: (rtt: number) => void): boolean;
    /** sends a message now, or buffers it until the connection opens */
    push(data: Message): void;
    /** a new message ref */
    makeRef(): string;
    /** removes the state callbacks registered under these refs */
    off(refs: string[]): void;
    channels: Channel[];
    /** the transport class in use (replaced by LongPoll on a fallback) */
    transport: unknown;
    getLongPollTransport(): typeof LongPoll;
    /** the current transport instance (a `ws` WebSocket or a LongPoll with the suite's transports), or null */
    readonly conn: unknown;
  }

  /** One meta of a presence: `phx_ref` (+ `phx_ref_prev` after an update) and the user meta. */
  export interface PresenceMeta {
    phx_ref: string;
    phx_ref_prev?: string;
    [field: string]: unknown;
  }

  /** One key's presence: its metas plus whatever the server's `fetch` added. */
  export interface PresenceEntry {
    metas: PresenceMeta[];
    [field: string]: unknown;
  }

  /** Presences by key (a null-prototype object in the client since 1.8). */
  export type PresenceState = Record<string, PresenceEntry>;

  export interface PresenceDiffPayload {
    joins: PresenceState;
    leaves: PresenceState;
  }

  export class Presence {
    constructor(channel: Channel, opts?: { events?: { state: string; diff: string } });
    state: PresenceState;
    pendingDiffs: PresenceDiffPayload[];
    /** the channel join_ref under which the last `presence_state` was received */
    joinRef: string | null;
    channel: Channel;
    onJoin(callback: (key: string, current: PresenceEntry | undefined, joined: PresenceEntry) => void): void;
    onLeave(callback: (key: string, current: PresenceEntry, left: PresenceEntry) => void): void;
    onSync(callback: () => void): void;
    list(): PresenceEntry[];
    list<T>(chooser: (key: string, presence: PresenceEntry) => T): T[];
    inPendingSyncState(): boolean;
    static syncState(current: PresenceState, next: PresenceState,
      onJoin?: (key: string, current: PresenceEntry | undefined, joined: PresenceEntry) => void,
      onLeave?: (key: string, current: PresenceEntry, left: PresenceEntry) => void): PresenceState;
    static syncDiff(state: PresenceState, diff: PresenceDiffPayload,
      onJoin?: (key: string, current: PresenceEntry | undefined, joined: PresenceEntry) => void,
      onLeave?: (key: string, current: PresenceEntry, left: PresenceEntry) => void): PresenceState;
    static list<T = PresenceEntry>(presences: PresenceState, chooser?: (key: string, presence: PresenceEntry) => T): T[];
  }
}
