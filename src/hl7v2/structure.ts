/**
 * Segment order checking for the message structures we map.
 *
 * Each structure is written as a small grammar over the segments the mapping relies on; every
 * other segment (Z-segments, ROL, PRT, NTE, IN1, GT1, ...) is ignored, so real-world messages
 * with extra or vendor segments pass, while the order that matters (PID before PV1, OBR before
 * its OBX, RXA after the patient, ...) is enforced. Where HL7 versions disagree, the grammar
 * accepts the union (e.g. OBX directly after PID is a v2.7+ patient-level observation).
 *
 * The grammar is compiled to an NFA, so the first offending segment and the segments that
 * were acceptable at that point can be reported.
 */
import { Hl7ParseError } from './errors.js';
import type { Hl7Message } from './parser.js';

type Node =
  | { k: 'seg'; name: string }
  | { k: 'seq'; items: Node[] }
  | { k: 'alt'; items: Node[] }
  | { k: 'opt'; item: Node }
  | { k: 'star'; item: Node };

const seg = (name: string): Node => ({ k: 'seg', name });
const toNode = (x: Node | string): Node => (typeof x === 'string' ? seg(x) : x);
const seq = (...items: (Node | string)[]): Node => ({ k: 'seq', items: items.map(toNode) });
const alt = (...items: (Node | string)[]): Node => ({ k: 'alt', items: items.map(toNode) });
const opt = (...items: (Node | string)[]): Node => ({ k: 'opt', item: seq(...items) });
const star = (...items: (Node | string)[]): Node => ({ k: 'star', item: seq(...items) });
const plus = (...items: (Node | string)[]): Node => seq(seq(...items), star(...items));

interface State {
  eps: number[];
  on?: { name: string; to: number };
}

class Nfa {
  readonly states: State[] = [];
  readonly alphabet = new Set<string>();
  readonly start: number;
  readonly accept: number;

  constructor(root: Node) {
    const [s, e] = this.build(root);
    this.start = s;
    this.accept = e;
  }

  private add(): number {
    this.states.push({ eps: [] });
    return this.states.length - 1;
  }

  private build(n: Node): [number, number] {
    const s = this.add();
    const e = this.add();
    switch (n.k) {
      case 'seg':
        this.alphabet.add(n.name);
        this.states[s]!.on = { name: n.name, to: e };
        break;
      case 'seq': {
        let cur = s;
        for (const item of n.items) {
          const [is, ie] = this.build(item);
          this.states[cur]!.eps.push(is);
          cur = ie;
        }
        this.states[cur]!.eps.push(e);
        break;
      }
      case 'alt':
        for (const item of n.items) {
          const [is, ie] = this.build(item);
          this.states[s]!.eps.push(is);
          this.states[ie]!.eps.push(e);
        }
        break;
      case 'opt': {
        const [is, ie] = this.build(n.item);
        this.states[s]!.eps.push(is, e);
        this.states[ie]!.eps.push(e);
        break;
      }
      case 'star': {
        const [is, ie] = this.build(n.item);
        this.states[s]!.eps.push(is, e);
        this.states[ie]!.eps.push(is, e);
        break;
      }
    }
    return [s, e];
  }

  closure(set: Iterable<number>): Set<number> {
    const out = new Set<number>();
    const stack = [...set];
    while (stack.length) {
      const st = stack.pop()!;
      if (out.has(st)) continue;
      out.add(st);
      for (const n of this.states[st]!.eps) if (!out.has(n)) stack.push(n);
    }
    return out;
  }

  expected(set: Set<number>): string[] {
    const names = new Set<string>();
    for (const st of set) {
      const on = this.states[st]!.on;
      if (on) names.add(on.name);
    }
    return [...names].sort();
  }
}

// Shared fragments -------------------------------------------------------------------------------

/** PID with the optional patient-level segments we read. */
const PATIENT = seq('PID', opt('PD1'), star('NK1'));
const VISIT = seq('PV1', opt('PV2'));

const ADT_WITH_VISIT = seq('MSH', opt('EVN'), PATIENT, VISIT, star(alt('OBX', 'DG1')));
const ADT_PERSON = seq('MSH', opt('EVN'), PATIENT, opt(VISIT), star(alt('OBX', 'DG1')));
const ADT_MERGE = seq('MSH', opt('EVN'), plus('PID', opt('PD1'), 'MRG', opt('PV1')));

/** ORU_R01: patient observations (v2.7+) before the visit; v2.8 order documents between ORC and OBR. */
const ORU_ORDER = seq(opt('ORC', opt(plus('OBX'), 'TXA')), 'OBR', star(alt('OBX', 'SPM')));
const ORU = seq('MSH', plus(PATIENT, star('OBX'), opt(VISIT), plus(ORU_ORDER)));

const VXU = seq('MSH', PATIENT, opt(VISIT), star('OBX'), star(opt('ORC'), 'RXA', opt('RXR'), star('OBX')));

/** Prior results (OML v2.6+): optional patient/visit again, then orders with their results. */
const PRIOR_RESULTS = seq(opt('PID', opt('PD1')), opt(VISIT), plus(opt('ORC'), 'OBR', star('OBX')));
const ORM_ORDER = seq('ORC', opt(alt('OBR', 'RXO', 'RQD', 'ODS', 'ODT')), star(alt('DG1', 'OBX', 'SPM')));
const ORM = seq('MSH', PATIENT, opt(VISIT), plus(ORM_ORDER));
const OML_ORDER = seq(alt(seq('ORC', opt('OBR')), 'OBR'), star(alt('DG1', 'OBX', 'SPM')), star(PRIOR_RESULTS));
const OML = seq('MSH', PATIENT, opt(VISIT), plus(OML_ORDER));

const GRAMMARS: Record<string, { label: string; root: Node }> = {
  'ADT^A01': { label: 'ADT_A01', root: ADT_WITH_VISIT },
  'ADT^A02': { label: 'ADT_A02', root: ADT_WITH_VISIT },
  'ADT^A03': { label: 'ADT_A03', root: ADT_WITH_VISIT },
  'ADT^A04': { label: 'ADT_A01', root: ADT_WITH_VISIT },
  'ADT^A08': { label: 'ADT_A01', root: ADT_WITH_VISIT },
  'ADT^A11': { label: 'ADT_A09', root: ADT_WITH_VISIT },
  'ADT^A13': { label: 'ADT_A01', root: ADT_WITH_VISIT },
  'ADT^A28': { label: 'ADT_A05', root: ADT_PERSON },
  'ADT^A31': { label: 'ADT_A05', root: ADT_PERSON },
  'ADT^A40': { label: 'ADT_A39', root: ADT_MERGE },
  'ORU^R01': { label: 'ORU_R01', root: ORU },
  'VXU^V04': { label: 'VXU_V04', root: VXU },
  'ORM^O01': { label: 'ORM_O01', root: ORM },
  'OML^O21': { label: 'OML_O21', root: OML },
};

const compiled = new Map<string, Nfa>();

function nfaFor(key: string): Nfa | undefined {
  const g = GRAMMARS[key];
  if (!g) return undefined;
  let nfa = compiled.get(key);
  if (!nfa) {
    nfa = new Nfa(g.root);
    compiled.set(key, nfa);
  }
  return nfa;
}

function list(names: string[]): string {
  return names.length === 1 ? names[0]! : `one of ${names.join(', ')}`;
}

/**
 * Checks the segment order of a message against its structure (by MSH-9 code^trigger).
 * Throws Hl7ParseError 'SEGMENT_ORDER' naming the first misplaced or missing segment.
 * Message types without a grammar here are not checked.
 */
export function checkSegmentOrder(message: Hl7Message): void {
  const key = message.messageTypeKey;
  const nfa = nfaFor(key);
  if (!nfa) return;
  const label = GRAMMARS[key]!.label;
  let current = nfa.closure([nfa.start]);
  for (const s of message.segments) {
    if (!nfa.alphabet.has(s.name)) continue;
    const next: number[] = [];
    for (const st of current) {
      const on = nfa.states[st]!.on;
      if (on && on.name === s.name) next.push(on.to);
    }
    if (next.length === 0) {
      const expected = nfa.expected(current);
      const canEnd = current.has(nfa.accept);
      throw new Hl7ParseError(
        'SEGMENT_ORDER',
        `Segment ${s.name} (segment ${s.index + 1} of the message) is out of order for ${label}: ` +
          (expected.length
            ? `expected ${list(expected)}${canEnd ? ' or the end of the message' : ''} at this point`
            : 'no further segments were expected'),
        { segment: s.name, occurrence: s.occurrence },
      );
    }
    current = nfa.closure(next);
  }
  if (!current.has(nfa.accept)) {
    const expected = nfa.expected(current);
    const first = expected[0] ?? 'segment';
    throw new Hl7ParseError('SEGMENT_ORDER', `Required segment ${list(expected)} is missing from this ${label} message`, {
      segment: first,
    });
  }
}
