/**
 * User-level online/offline with a leave grace (docs/presence.md "Online and offline"): pure
 * logic, no timers and no I/O. The caller reports, after every change it saw, whether a
 * (topic, key) has at least one visible meta (`present` / `absent`), with a monotonic `now`.
 * A key goes online when it becomes present while offline; it goes offline only once it has
 * stayed absent for `graceMs` (collected by `due(now)`). A key that comes back within the
 * grace makes no event. Every node feeds this from its own replica of the tracker CRDT, so
 * nodes that saw the same changes, each within less than the grace of the others, make the
 * same events.
 */

/** A key's first join (`online`) or last leave past the grace (`offline`) on a topic. */
export interface OnlineEvent {
  readonly kind: "online" | "offline";
  readonly topic: string;
  readonly key: string;
}

/** One key's status: online (present, or absent since `absentSince` within the grace). */
interface KeyStatus {
  /** Monotonic time the key's last meta left; undefined while it has metas. */
  absentSince: number | undefined;
}

/** Pending offline: a key absent since `since`, due at `since + graceMs`. */
interface PendingOffline {
  readonly topic: string;
  readonly key: string;
  readonly since: number;
}

/** Unambiguous (topic, key) composite. */
function slot(topic: string, key: string): string {
  return `${topic.length}:${topic}${key}`;
}

/** The online keys of every topic and their pending offlines. */
export class OnlineState {
  private readonly topics = new Map<string, Map<string, KeyStatus>>();
  /** Absent keys in the order they went absent, which is the order they fall due (`now` never decreases). */
  private readonly pending = new Map<string, PendingOffline>();
  private last = -Infinity;

  /** `graceMs`: how long a key may have no meta before it goes offline (≥ 0). */
  constructor(readonly graceMs: number) {
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError("graceMs must be a finite number ≥ 0");
  }

  /**
   * The key has at least one meta now. Returns its `online` event when it was offline, nothing
   * when it was online (present, or absent within the grace: the pending offline is cancelled).
   * With `silent`, an offline key becomes online without an event (a node adopting what was
   * online before it started).
   */
  present(topic: string, key: string, now: number, silent = false): OnlineEvent | undefined {
    this.tick(now);
    let keys = this.topics.get(topic);
    const status = keys?.get(key);
    if (status !== undefined) {
      if (status.absentSince !== undefined) {
        status.absentSince = undefined;
        this.pending.delete(slot(topic, key));
      }
      return undefined;
    }
    if (keys === undefined) this.topics.set(topic, (keys = new Map()));
    keys.set(key, { absentSince: undefined });
    return silent ? undefined : { kind: "online", topic, key };
  }

  /** The key has no meta now: it goes offline at `now + graceMs` unless it comes back first. */
  absent(topic: string, key: string, now: number): void {
    this.tick(now);
    const status = this.topics.get(topic)?.get(key);
    if (status === undefined || status.absentSince !== undefined) return;
    status.absentSince = now;
    this.pending.set(slot(topic, key), { topic, key, since: now });
  }

  /** The offline events due at `now` (keys absent for at least the grace), in the order they fell due. */
  due(now: number): OnlineEvent[] {
    this.tick(now);
    const out: OnlineEvent[] = [];
    for (const [id, { topic, key, since }] of this.pending) {
      if (since + this.graceMs > now) break;
      this.pending.delete(id);
      const keys = this.topics.get(topic);
      keys?.delete(key);
      if (keys?.size === 0) this.topics.delete(topic);
      out.push({ kind: "offline", topic, key });
    }
    return out;
  }

  /** When the next offline falls due (monotonic time), or undefined when none is pending. */
  nextDue(): number | undefined {
    for (const { since } of this.pending.values()) return since + this.graceMs;
    return undefined;
  }

  /** True while `key` is online on `topic` (present, or absent within the grace). */
  isOnline(topic: string, key: string): boolean {
    return this.topics.get(topic)?.has(key) ?? false;
  }

  /** The online keys of `topic` (in the order they came online). */
  online(topic: string): string[] {
    return [...(this.topics.get(topic)?.keys() ?? [])];
  }

  /** How many keys are online on `topic`. */
  count(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Forgets everything, pending offlines included (a stopping node makes no more events). */
  clear(): void {
    this.topics.clear();
    this.pending.clear();
  }

  private tick(now: number): void {
    if (now < this.last) throw new RangeError("now must not decrease");
    this.last = now;
  }
}
