/**
 * Compares two V8 heap snapshots (`.heapsnapshot`, as `v8.writeHeapSnapshot` writes them): the
 * self size and count of objects grouped by type and constructor (closures by function name),
 * what grew between them, per connection when divided by the connections opened in between.
 */
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes and count of one group. */
export interface HeapGroup {
  name: string;
  bytes: number;
  count: number;
}

/** Self size and count per `type:name` group. */
export function heapGroups(path: string): Map<string, HeapGroup> {
  const data = JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const types = data.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups = new Map<string, HeapGroup>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!] ?? "?";
    let name = type === "string" || type === "concatenated string" || type === "sliced string" ? "(strings)"
      : type === "number" ? "(heap numbers)" : type === "code" ? "(code)" : data.strings[data.nodes[i + nameAt]!] ?? "?";
    if (type === "array" || type === "hidden") name = name.length > 60 ? `${name.slice(0, 60)}…` : name;
    const key = `${type}:${name}`;
    const group = groups.get(key) ?? { name: key, bytes: 0, count: 0 };
    group.bytes += data.nodes[i + sizeAt]!;
    group.count++;
    groups.set(key, group);
  }
  return groups;
}

/** The groups that grew most from `before` to `after` (bytes and counts are the differences). */
export function heapGrowth(before: string, after: string, top = 25): HeapGroup[] {
  const a = heapGroups(before);
  const b = heapGroups(after);
  const growth: HeapGroup[] = [];
  for (const [key, group] of b) {
    const old = a.get(key);
    growth.push({ name: key, bytes: group.bytes - (old?.bytes ?? 0), count: group.count - (old?.count ?? 0) });
  }
  return growth.sort((x, y) => y.bytes - x.bytes).slice(0, top);
}
