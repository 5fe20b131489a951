/**
 * Where each person of a transmission chain sits when it is drawn by time (the 传播链 screen and
 * the investigation report's PDF): x = whole days from the chain's first day, y = a row inside the
 * band of the person's cluster, so nobody overlaps on one day; each cluster's band is as tall as
 * its busiest day, with a free row between bands. Pure; it reads the chain answer's parallel
 * arrays (one entry per person, see ChainAnswer in src/investigation/schemas.ts) and answers
 * parallel arrays, so ten thousand people cost no object each.
 */

/** What a person's group code (`nodes.group[i]`) stands for: a case's classification, or a contact. */
export const CHAIN_GROUPS = ['suspected', 'clinical', 'confirmed', 'excluded', 'contact'] as const;
export type ChainGroup = (typeof CHAIN_GROUPS)[number];
/** The group code of contacts (every other code is a case). */
export const CONTACT_GROUP = CHAIN_GROUPS.indexOf('contact');

/** The columns the layout reads: day (whole days from the first), cluster (index of its root), generation. */
export interface LayoutColumns {
  day: readonly number[];
  cluster: readonly number[];
  generation: readonly number[];
}

export interface ChainLayout {
  /** x of person i: its day. */
  x: readonly number[];
  /** y of person i: its row (bands and gaps counted from the top). */
  y: number[];
  /** Days from the first to the last person. */
  span: number;
  /** Rows used, bands and gaps included. */
  rows: number;
}

/**
 * Bands are stacked in the order their clusters first appear (the answer lists people by day, so
 * the oldest cluster is on top); inside a band, earlier generations take the upper rows of a day,
 * then the order of the answer.
 */
export function layoutChain(nodes: LayoutColumns, count = nodes.day.length): ChainLayout {
  const y = new Array<number>(count).fill(0);
  if (!count) return { x: [], y, span: 0, rows: 0 };
  const members = new Map<number, number[]>();
  let span = 0;
  for (let i = 0; i < count; i++) {
    const c = nodes.cluster[i]!;
    const list = members.get(c);
    if (list) list.push(i);
    else members.set(c, [i]);
    if (nodes.day[i]! > span) span = nodes.day[i]!;
  }
  let base = 0;
  for (const list of members.values()) {
    list.sort((a, b) => nodes.generation[a]! - nodes.generation[b]! || a - b);
    const used = new Map<number, number>();
    let height = 1;
    for (const i of list) {
      const x = nodes.day[i]!;
      const row = used.get(x) ?? 0;
      used.set(x, row + 1);
      if (row + 1 > height) height = row + 1;
      y[i] = base + row;
    }
    base += height + 1;
  }
  return { x: nodes.day.slice(0, count), y, span, rows: base };
}
