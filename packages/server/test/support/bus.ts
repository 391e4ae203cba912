/**
 * Test support: an in-memory "network" joining several PubSubs as cluster nodes. Messages are
 * JSON round-tripped and delivered asynchronously, like a real adapter's; a filter can drop
 * them (lost messages, partitions).
 */
import type { PubSubAdapter, RemoteBroadcast } from "../../src/index.js";

/** Joins bus adapters. */
export class Bus {
  private readonly nodes = new Map<string, (message: RemoteBroadcast) => void>();
  /** Return false to drop a message from `from` to `to`. */
  filter: (from: string, to: string, message: RemoteBroadcast) => boolean = () => true;
  delivered = 0;

  /** An adapter for a node named `name` on this bus. */
  adapter(name: string): PubSubAdapter {
    const bus = this;
    return {
      nodeName: name,
      start(onRemote) { bus.nodes.set(name, onRemote); },
      broadcast(message) { for (const to of bus.nodes.keys()) if (to !== name) bus.send(name, to, message); },
      directBroadcast(to, message) { bus.send(name, to, message); },
      close() { bus.nodes.delete(name); },
    };
  }

  private send(from: string, to: string, message: RemoteBroadcast): void {
    if (!this.filter(from, to, message)) return;
    const copy = JSON.parse(JSON.stringify(message)) as RemoteBroadcast;
    setImmediate(() => {
      const deliver = this.nodes.get(to);
      if (deliver !== undefined) {
        this.delivered++;
        deliver(copy);
      }
    });
  }
}
