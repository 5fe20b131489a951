/**
 * Where each person of a transmission chain sits when it is drawn by time (the 传播链 screen and
 * the investigation report's PDF): x = whole days from the chain's first day, y = a row inside the
 * band of the person's cluster, so nobody overlaps on one day; each cluster's band is as tall as
 * its busiest day, with a free row between bands. Pure; nodes in the server's chain shape.
 */
import { daysBetween } from './dates.js';

export interface LayoutNode {
  key: string;
  /** YYYY-MM-DD */
  day: string;
  cluster: string;
  generation: number;
}

export interface ChainLayout {
  pos: Map<string, [number, number]>;
  /** The first day (x = 0), '' when there are no nodes. */
  first: string;
  /** Days from the first to the last node. */
  span: number;
  /** Rows used, bands and gaps included. */
  rows: number;
}

export function layoutChain(nodes: readonly LayoutNode[]): ChainLayout {
  const pos = new Map<string, [number, number]>();
  if (!nodes.length) return { pos, first: '', span: 0, rows: 0 };
  let first = nodes[0]!.day;
  let last = first;
  for (const n of nodes) {
    if (n.day < first) first = n.day;
    if (n.day > last) last = n.day;
  }
  const clusters = new Map<string, LayoutNode[]>();
  for (const n of nodes) {
    const list = clusters.get(n.cluster);
    if (list) list.push(n);
    else clusters.set(n.cluster, [n]);
  }
  let base = 0;
  for (const list of clusters.values()) {
    const used = new Map<number, number>();
    let height = 1;
    for (const n of [...list].sort((a, b) => a.generation - b.generation || a.key.localeCompare(b.key))) {
      const x = daysBetween(first, n.day);
      const row = used.get(x) ?? 0;
      used.set(x, row + 1);
      height = Math.max(height, row + 1);
      pos.set(n.key, [x, base + row]);
    }
    base += height + 1;
  }
  return { pos, first, span: daysBetween(first, last), rows: base };
}
