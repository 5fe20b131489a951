/**
 * Transmission chains and the epi curve (issue #19 item 5), pure: the cases (investigations) and
 * contacts of one or more connected outbreaks become a directed graph laid out by time, with each
 * node's generation and cluster, the serial intervals where both onsets are known, and the cases
 * per onset day stacked by classification. The store walks the graph; nothing here reads it.
 *
 * A contact who became a case is drawn once, as that case: the edge goes from the case who
 * exposed them to their own investigation. Generation 0 is a case nobody in the graph exposed;
 * a cluster is everything reached from one such root (a case reachable from two roots joins the
 * first one found, by root onset then id).
 */
import { CHAIN_GROUPS, CONTACT_GROUP } from '../shared/chain-layout.js';
import { addDays, daysBetween } from '../shared/dates.js';

export type Classification = 'suspected' | 'clinical' | 'confirmed' | 'excluded';
export const CLASSIFICATIONS: readonly Classification[] = ['suspected', 'clinical', 'confirmed', 'excluded'];

export interface ChainCase {
  investigationId: number;
  patientId: string;
  diseaseName: string;
  classification: Classification;
  status: string;
  onsetDate: string | null;
  openedAt: string;
  /** The contact this case was found as (null: found otherwise). */
  fromContactId: number | null;
}

/** A contact as the chain needs it: who, of which case, and the span and kinds of their exposures. */
export interface ChainContact {
  contactId: number;
  investigationId: number;
  patientId: string | null;
  name: string | null;
  caseInvestigationId: number | null;
  followUpStart: string;
  /** Exposure types, distinct. */
  types: string[];
  /** First and last exposure day (null without exposures). */
  firstDate: string | null;
  lastDate: string | null;
}

export interface IntervalStats {
  n: number;
  mean: number;
  median: number;
  sd: number | null;
  min: number;
  max: number;
}

export interface EpiCurveDay {
  day: string;
  suspected: number;
  clinical: number;
  confirmed: number;
  excluded: number;
}

/**
 * The graph in parallel arrays (one entry per person; edges by person index), people sorted by
 * day: the wire shape of the chain routes (ChainAnswer in schemas.ts), lean enough that ten
 * thousand people are a few hundred kilobytes of JSON.
 */
export interface Chain {
  /** Day 0 of `nodes.day` (YYYY-MM-DD); '' when there is nobody. */
  firstDay: string;
  /** What nodes.group codes stand for (src/shared/chain-layout.ts CHAIN_GROUPS). */
  groups: string[];
  nodes: {
    /** A case's investigation id, a contact's contact id. */
    id: number[];
    /** Index into groups: the case's classification, or contact. */
    group: number[];
    /** The resident's name (or an out-of-district contact's); null when unknown. */
    name: (string | null)[];
    /** A case's onset (else the day its investigation opened), a contact's last exposure: days from firstDay. */
    day: number[];
    generation: number[];
    /** Index of the root case of the person's cluster. */
    cluster: number[];
  };
  /** Who exposed whom, by person index; type: index into exposureTypes (-1: none recorded). */
  edges: { from: number[]; to: number[]; type: number[] };
  /** Exposure types of the edges, each distinct combination once (joined by 、). */
  exposureTypes: string[];
  stats: {
    cases: number;
    contacts: number;
    clusters: number;
    generations: number;
    /** Onset of the exposed case minus onset of the case who exposed them, in days. */
    serialInterval: IntervalStats | null;
  };
  epiCurve: EpiCurveDay[];
}

/** A person while the graph is built. */
interface Node {
  key: string;
  isCase: boolean;
  id: number;
  group: number;
  name: string | null;
  day: string;
  generation: number;
  cluster: string;
}

const caseKey = (id: number) => `case:${id}`;
const contactKey = (id: number) => `contact:${id}`;
const dayOf = (iso: string) => iso.slice(0, 10);

/** n, mean, median, sample standard deviation (null for one value), min and max; null when empty. */
export function intervalStats(values: number[]): IntervalStats | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const sd = n > 1 ? Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : null;
  const round = (v: number) => Math.round(v * 100) / 100;
  return { n, mean: round(mean), median, sd: sd === null ? null : round(sd), min: sorted[0]!, max: sorted[n - 1]! };
}

/** Cases per onset day (or the day their investigation opened, when onset is unknown), stacked by classification, every day from first to last. */
export function epiCurve(cases: readonly Pick<ChainCase, 'onsetDate' | 'openedAt' | 'classification'>[]): EpiCurveDay[] {
  const byDay = new Map<string, EpiCurveDay>();
  for (const c of cases) {
    const day = c.onsetDate ?? dayOf(c.openedAt);
    let row = byDay.get(day);
    if (!row) byDay.set(day, (row = { day, suspected: 0, clinical: 0, confirmed: 0, excluded: 0 }));
    row[c.classification]++;
  }
  if (!byDay.size) return [];
  const days = [...byDay.keys()].sort();
  const out: EpiCurveDay[] = [];
  // Every day between the first and the last, so a gap in onsets shows as a gap (at most ~3 years).
  const span = Math.min(daysBetween(days[0]!, days[days.length - 1]!), 1100);
  for (let i = 0; i <= span; i++) {
    const day = addDays(days[0]!, i);
    out.push(byDay.get(day) ?? { day, suspected: 0, clinical: 0, confirmed: 0, excluded: 0 });
  }
  return out;
}

/**
 * Builds the graph from the cases and contacts the store found (contacts of cases not given are
 * ignored), oldest first; at most `limit` people are kept (the oldest), with the edges between them.
 */
export function buildChain(
  cases: readonly ChainCase[],
  contacts: readonly ChainContact[],
  names: ReadonlyMap<string, string> = new Map(),
  limit = Infinity,
): Chain & { truncated: boolean } {
  const caseById = new Map(cases.map((c) => [c.investigationId, c]));
  const nodes = new Map<string, Node>();
  const edges: { from: string; to: string; types: string }[] = [];
  const children = new Map<string, string[]>();
  const parentOf = new Map<string, string>();
  const link = (from: string, to: string, types: readonly string[]) => {
    edges.push({ from, to, types: [...types].sort().join('、') });
    const list = children.get(from);
    if (list) list.push(to);
    else children.set(from, [to]);
    if (!parentOf.has(to)) parentOf.set(to, from);
  };

  for (const c of cases) {
    const key = caseKey(c.investigationId);
    nodes.set(key, {
      key,
      isCase: true,
      id: c.investigationId,
      group: CHAIN_GROUPS.indexOf(c.classification),
      name: names.get(c.patientId) ?? null,
      day: c.onsetDate ?? dayOf(c.openedAt),
      generation: 0,
      cluster: '',
    });
  }
  for (const k of contacts) {
    const from = caseKey(k.investigationId);
    if (!nodes.has(from)) continue;
    if (k.caseInvestigationId !== null && caseById.has(k.caseInvestigationId)) {
      link(from, caseKey(k.caseInvestigationId), k.types);
      continue;
    }
    const key = contactKey(k.contactId);
    nodes.set(key, {
      key,
      isCase: false,
      id: k.contactId,
      group: CONTACT_GROUP,
      // A resident's name only from the names given (those the reader may see); the name typed for an out-of-district contact otherwise.
      name: k.patientId ? (names.get(k.patientId) ?? null) : k.name,
      day: k.lastDate ?? k.followUpStart,
      generation: 0,
      cluster: '',
    });
    link(from, key, k.types);
  }
  // Generations and clusters: breadth-first from the roots, oldest root first.
  const roots = [...nodes.values()]
    .filter((n) => n.isCase && !parentOf.has(n.key))
    .sort((a, b) => a.day.localeCompare(b.day) || a.id - b.id);
  const seen = new Set<string>();
  let generations = 0;
  for (const root of roots) {
    if (seen.has(root.key)) continue;
    const queue: [string, number][] = [[root.key, 0]];
    seen.add(root.key);
    for (let i = 0; i < queue.length; i++) {
      const [key, gen] = queue[i]!;
      const node = nodes.get(key)!;
      node.generation = gen;
      node.cluster = root.key;
      if (node.isCase) generations = Math.max(generations, gen + 1);
      for (const next of children.get(key) ?? [])
        if (!seen.has(next)) {
          seen.add(next);
          queue.push([next, gen + 1]);
        }
    }
  }
  // A cycle with no root (cannot happen through the workflows, but data may be edited): its own cluster.
  for (const n of nodes.values()) if (!n.cluster) n.cluster = n.key;

  const intervals: number[] = [];
  for (const e of edges) {
    const a = e.from.startsWith('case:') ? caseById.get(Number(e.from.slice(5))) : undefined;
    const b = e.to.startsWith('case:') ? caseById.get(Number(e.to.slice(5))) : undefined;
    if (a?.onsetDate && b?.onsetDate) intervals.push(daysBetween(a.onsetDate, b.onsetDate));
  }
  const all = [...nodes.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const list = all.length > limit ? all.slice(0, limit) : all;
  const index = new Map(list.map((n, i) => [n.key, i]));
  const firstDay = list[0]?.day ?? '';
  // Day numbers: one date computation per distinct day, not per person.
  const dayNumber = new Map<string, number>();
  const dayOfNode = (d: string) => {
    let v = dayNumber.get(d);
    if (v === undefined) dayNumber.set(d, (v = daysBetween(firstDay, d)));
    return v;
  };
  const out: Chain['nodes'] = { id: [], group: [], name: [], day: [], generation: [], cluster: [] };
  for (const n of list) {
    out.id.push(n.id);
    out.group.push(n.group);
    out.name.push(n.name);
    out.day.push(dayOfNode(n.day));
    out.generation.push(n.generation);
    // A root beyond the limit (older ones are kept first, so only in an edited cycle): the person is its own root.
    out.cluster.push(index.get(n.cluster) ?? index.get(n.key)!);
  }
  const typeIndex = new Map<string, number>();
  const kept: Chain['edges'] = { from: [], to: [], type: [] };
  for (const e of edges) {
    const from = index.get(e.from);
    const to = index.get(e.to);
    if (from === undefined || to === undefined) continue;
    let type = -1;
    if (e.types) {
      type = typeIndex.get(e.types) ?? typeIndex.size;
      typeIndex.set(e.types, type);
    }
    kept.from.push(from);
    kept.to.push(to);
    kept.type.push(type);
  }
  return {
    truncated: all.length > list.length,
    firstDay,
    groups: [...CHAIN_GROUPS],
    nodes: out,
    edges: kept,
    exposureTypes: [...typeIndex.keys()],
    stats: {
      cases: cases.length,
      contacts: all.length - cases.length,
      clusters: new Set(all.map((n) => n.cluster)).size,
      generations,
      serialInterval: intervalStats(intervals),
    },
    epiCurve: epiCurve(cases),
  };
}
