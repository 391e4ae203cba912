/** The parts of the official `phoenix` client the apps' tests use (it ships no types). */
declare module "phoenix" {
  export interface Push {
    receive(status: string, callback: (response: unknown) => void): Push;
  }
  export class Channel {
    state: string;
    join(timeout?: number): Push;
    leave(timeout?: number): Push;
    push(event: string, payload: unknown, timeout?: number): Push;
    on(event: string, callback: (payload: unknown) => void): number;
  }
  export class Socket {
    constructor(endPoint: string, options?: Record<string, unknown>);
    connect(): void;
    disconnect(callback?: () => void, code?: number, reason?: string): void;
    isConnected(): boolean;
    channel(topic: string, params?: object | (() => object)): Channel;
    onClose(callback: (event: { code: number }) => void): string;
    onError(callback: (error: unknown) => void): string;
    onOpen(callback: () => void): string;
  }
  export class Presence {
    constructor(channel: Channel);
    onSync(callback: () => void): void;
    list<T = unknown>(chooser?: (key: string, presence: { metas: Array<Record<string, unknown>>; [extra: string]: unknown }) => T): T[];
  }
}
