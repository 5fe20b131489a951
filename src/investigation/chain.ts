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

export interface ChainExposure {
  type: string;
  place: string | null;
  firstDate: string;
  lastDate: string;
}

export interface ChainContact {
  contactId: number;
  investigationId: number;
  patientId: string | null;
  name: string | null;
  status: string;
  caseInvestigationId: number | null;
  followUpStart: string;
  followUpEnd: string;
  exposures: ChainExposure[];
}

export interface ChainNode {
  key: string;
  kind: 'case' | 'contact';
  investigationId: number | null;
  contactId: number | null;
  patientId: string | null;
  name: string | null;
  classification: Classification | null;
  status: string;
  /** Where the node sits in time: a case's onset (or the day its investigation opened), a contact's last exposure. */
  day: string;
  generation: number;
  /** The key of the root case of the node's cluster. */
  cluster: string;
}

export interface ChainEdge {
  from: string;
  to: string;
  types: string[];
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

export interface Chain {
  nodes: ChainNode[];
  edges: ChainEdge[];
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

/** Builds the graph from the cases and contacts the store found (contacts of cases not given are ignored). */
export function buildChain(
  cases: readonly ChainCase[],
  contacts: readonly ChainContact[],
  names: ReadonlyMap<string, string> = new Map(),
): Chain {
  const caseById = new Map(cases.map((c) => [c.investigationId, c]));
  const nodes = new Map<string, ChainNode>();
  const edges: ChainEdge[] = [];
  const children = new Map<string, string[]>();
  const parentOf = new Map<string, string>();
  const link = (from: string, to: string) => {
    const list = children.get(from);
    if (list) list.push(to);
    else children.set(from, [to]);
    if (!parentOf.has(to)) parentOf.set(to, from);
  };

  for (const c of cases) {
    nodes.set(caseKey(c.investigationId), {
      key: caseKey(c.investigationId),
      kind: 'case',
      investigationId: c.investigationId,
      contactId: null,
      patientId: c.patientId,
      name: names.get(c.patientId) ?? null,
      classification: c.classification,
      status: c.status,
      day: c.onsetDate ?? dayOf(c.openedAt),
      generation: 0,
      cluster: '',
    });
  }
  const edgeFor = (from: string, to: string, exposures: readonly ChainExposure[]) => {
    const firsts = exposures.map((e) => e.firstDate).sort();
    const lasts = exposures.map((e) => e.lastDate).sort();
    edges.push({
      from,
      to,
      types: [...new Set(exposures.map((e) => e.type))],
      firstDate: firsts[0] ?? null,
      lastDate: lasts[lasts.length - 1] ?? null,
    });
    link(from, to);
  };
  for (const k of contacts) {
    const from = caseKey(k.investigationId);
    if (!nodes.has(from)) continue;
    if (k.caseInvestigationId !== null && caseById.has(k.caseInvestigationId)) {
      edgeFor(from, caseKey(k.caseInvestigationId), k.exposures);
      continue;
    }
    const lastExposure = k.exposures.map((e) => e.lastDate).sort();
    nodes.set(contactKey(k.contactId), {
      key: contactKey(k.contactId),
      kind: 'contact',
      investigationId: null,
      contactId: k.contactId,
      patientId: k.patientId,
      name: (k.patientId ? names.get(k.patientId) : undefined) ?? k.name,
      classification: null,
      status: k.status,
      day: lastExposure[lastExposure.length - 1] ?? k.followUpStart,
      generation: 0,
      cluster: '',
    });
    edgeFor(from, contactKey(k.contactId), k.exposures);
  }
  // Generations and clusters: breadth-first from the roots, oldest root first.
  const roots = [...nodes.values()]
    .filter((n) => n.kind === 'case' && !parentOf.has(n.key))
    .sort((a, b) => a.day.localeCompare(b.day) || (a.investigationId ?? 0) - (b.investigationId ?? 0));
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
      if (node.kind === 'case') generations = Math.max(generations, gen + 1);
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
  const list = [...nodes.values()].sort((a, b) => a.day.localeCompare(b.day) || a.key.localeCompare(b.key));
  return {
    nodes: list,
    edges,
    stats: {
      cases: cases.length,
      contacts: list.length - cases.length,
      clusters: new Set(list.map((n) => n.cluster)).size,
      generations,
      serialInterval: intervalStats(intervals),
    },
    epiCurve: epiCurve(cases),
  };
}
