/**
 * Per-topic index of tracker values: topic → key → values in insertion order, with counts of
 * *visible* values (those whose replica is up) maintained incrementally, so reads cost
 * O(entries of the topic) and counts O(1). Internal to the presence state; pure data.
 */
import type { Meta } from "./wire.js";
import { type Entry, type Value, entryOf } from "./types.js";

interface KeyRec {
  readonly values: Set<Value>;
  visible: number;
}

interface TopicRec {
  readonly keys: Map<string, KeyRec>;
  visibleKeys: number;
  visibleMetas: number;
}

/** Topic → key → values index with visible counts (values of down replicas are hidden). */
export class TopicIndex {
  private readonly topicMap = new Map<string, TopicRec>();

  /** Index `v` (appended after the key's existing values). */
  add(v: Value): void {
    let t = this.topicMap.get(v.topic);
    if (t === undefined) this.topicMap.set(v.topic, (t = { keys: new Map(), visibleKeys: 0, visibleMetas: 0 }));
    let k = t.keys.get(v.key);
    if (k === undefined) t.keys.set(v.key, (k = { values: new Set(), visible: 0 }));
    k.values.add(v);
    if (v.rep.up) {
      if (k.visible++ === 0) t.visibleKeys++;
      t.visibleMetas++;
    }
  }

  /** Unindex `v` (its replica's `up` must be what it was when counted). */
  remove(v: Value): void {
    const t = this.topicMap.get(v.topic);
    const k = t?.keys.get(v.key);
    if (t === undefined || k === undefined || !k.values.delete(v)) return;
    if (v.rep.up) {
      if (--k.visible === 0) t.visibleKeys--;
      t.visibleMetas--;
    }
    if (k.values.size === 0) {
      t.keys.delete(v.key);
      if (t.keys.size === 0) this.topicMap.delete(v.topic);
    }
  }

  /** Adjust counts after `v`'s replica changed status to `visible`. */
  setVisible(v: Value, visible: boolean): void {
    const t = this.topicMap.get(v.topic);
    const k = t?.keys.get(v.key);
    if (t === undefined || k === undefined) return;
    const d = visible ? 1 : -1;
    if (visible ? k.visible++ === 0 : --k.visible === 0) t.visibleKeys += d;
    t.visibleMetas += d;
  }

  /** key → visible metas of `topic`. */
  list(topic: string): Map<string, Meta[]> {
    const out = new Map<string, Meta[]>();
    const t = this.topicMap.get(topic);
    if (t === undefined || t.visibleMetas === 0) return out;
    for (const [key, k] of t.keys) {
      if (k.visible === 0) continue;
      const metas: Meta[] = [];
      for (const v of k.values) if (v.rep.up) metas.push(v.meta);
      out.set(key, metas);
    }
    return out;
  }

  /** Keys of `topic` with a visible value, in insertion order. */
  keys(topic: string): string[] {
    const out: string[] = [];
    const t = this.topicMap.get(topic);
    if (t === undefined || t.visibleKeys === 0) return out;
    for (const [key, k] of t.keys) if (k.visible > 0) out.push(key);
    return out;
  }

  /** Visible metas of one key. */
  get(topic: string, key: string): Meta[] {
    const k = this.topicMap.get(topic)?.keys.get(key);
    const out: Meta[] = [];
    if (k === undefined || k.visible === 0) return out;
    for (const v of k.values) if (v.rep.up) out.push(v.meta);
    return out;
  }

  /** Visible entries of a topic, or of one key in it. */
  entries(topic: string, key?: string): Entry[] {
    const t = this.topicMap.get(topic);
    const out: Entry[] = [];
    if (t === undefined) return out;
    const ks = key === undefined ? t.keys.values() : [t.keys.get(key)];
    for (const k of ks) {
      if (k === undefined || k.visible === 0) continue;
      for (const v of k.values) if (v.rep.up) out.push(entryOf(v));
    }
    return out;
  }

  /** Visible values of one key. O(1). */
  countKeyMetas(topic: string, key: string): number {
    return this.topicMap.get(topic)?.keys.get(key)?.visible ?? 0;
  }

  /** Distinct keys with a visible value. */
  countKeys(topic: string): number {
    return this.topicMap.get(topic)?.visibleKeys ?? 0;
  }

  /** Visible values. */
  countMetas(topic: string): number {
    return this.topicMap.get(topic)?.visibleMetas ?? 0;
  }

  /** Topics with at least one visible value. */
  topics(): string[] {
    const out: string[] = [];
    for (const [topic, t] of this.topicMap) if (t.visibleMetas > 0) out.push(topic);
    return out;
  }
}
