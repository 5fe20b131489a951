/**
 * Scoring of contact candidates against the simulator's contact truth (pure). Per case, people
 * are compared, not rows: a person proposed twice (by the simulator's household Group and the
 * identity module's address household, or in a room and a ward) is one candidate, and a true
 * contact found under any kind counts as found.
 *
 * - recall of a kind: true contacts of that kind (truth.json `contacts`) proposed for the case
 *   (under any kind) ÷ true contacts of that kind;
 * - precision of a kind: candidates of that kind that are true contacts of the case (of any
 *   kind) ÷ candidates of that kind. A candidate whose Patient cannot be traced to a resident
 *   of the simulated district counts as wrong.
 * Overall figures count each (case, person) once.
 */

export const CONTACT_KINDS = ['household', 'room', 'ward', 'department', 'school-class', 'care-home'] as const;
export type ScoredKind = (typeof CONTACT_KINDS)[number];

export interface CaseTruth {
  /** Canonical patient id of the case (pat-NNNNNNN). */
  patientId: string;
  contacts: { patientId: string; kind: string }[];
}

export interface CaseCandidates {
  /** Candidates with their canonical person (null: could not be traced to a resident). */
  candidates: { person: string | null; kind: string }[];
}

export interface KindScore {
  kind: string;
  /** True contacts of the kind, and of them proposed. */
  truth: number;
  found: number;
  recall: number | null;
  /** Candidates of the kind, and of them true contacts. */
  candidates: number;
  correct: number;
  precision: number | null;
}

export interface ContactScore {
  cases: number;
  rows: KindScore[];
  overall: KindScore;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** Scores the candidates of each case (same order as the truths). */
export function scoreContacts(cases: { truth: CaseTruth; found: CaseCandidates }[]): ContactScore {
  const acc = new Map<string, { truth: number; found: number; candidates: number; correct: number }>();
  const row = (k: string) => {
    let r = acc.get(k);
    if (!r) acc.set(k, (r = { truth: 0, found: 0, candidates: 0, correct: 0 }));
    return r;
  };
  const all = { truth: 0, found: 0, candidates: 0, correct: 0 };
  for (const { truth, found } of cases) {
    const trueKinds = new Map<string, Set<string>>();
    for (const c of truth.contacts) {
      if (c.patientId === truth.patientId) continue;
      const s = trueKinds.get(c.patientId) ?? new Set<string>();
      s.add(c.kind);
      trueKinds.set(c.patientId, s);
    }
    const proposed = new Map<string, Set<string>>();
    const untraced = new Map<string, number>();
    for (const c of found.candidates) {
      if (c.person === null) {
        untraced.set(c.kind, (untraced.get(c.kind) ?? 0) + 1);
        continue;
      }
      if (c.person === truth.patientId) continue;
      const s = proposed.get(c.person) ?? new Set<string>();
      s.add(c.kind);
      proposed.set(c.person, s);
    }
    for (const [person, kinds] of trueKinds) {
      const hit = proposed.has(person);
      for (const k of kinds) {
        const r = row(k);
        r.truth++;
        if (hit) r.found++;
      }
      all.truth++;
      if (hit) all.found++;
    }
    for (const [person, kinds] of proposed) {
      const ok = trueKinds.has(person);
      for (const k of kinds) {
        const r = row(k);
        r.candidates++;
        if (ok) r.correct++;
      }
      all.candidates++;
      if (ok) all.correct++;
    }
    for (const [k, n] of untraced) {
      row(k).candidates += n;
      all.candidates += n;
    }
  }
  const score = (kind: string, r: { truth: number; found: number; candidates: number; correct: number }): KindScore => ({
    kind,
    ...r,
    recall: ratio(r.found, r.truth),
    precision: ratio(r.correct, r.candidates),
  });
  const order = [...CONTACT_KINDS, ...[...acc.keys()].filter((k) => !(CONTACT_KINDS as readonly string[]).includes(k)).sort()];
  return {
    cases: cases.length,
    rows: order.map((k) => score(k, acc.get(k) ?? { truth: 0, found: 0, candidates: 0, correct: 0 })),
    overall: score('overall', all),
  };
}

export const TARGETS = { recall: 0.95, precision: 0.6 } as const;

const fmt = (v: number | null): string => (v === null ? '—' : v.toFixed(3));

/** A plain-text table: one row per kind, then overall, with the targets. */
export function formatContactTable(s: ContactScore): string {
  const head = ['kind', 'true contacts', 'found', 'recall', 'candidates', 'correct', 'precision'];
  const body = [...s.rows, s.overall].map((r) => [
    r.kind,
    String(r.truth),
    String(r.found),
    fmt(r.recall),
    String(r.candidates),
    String(r.correct),
    fmt(r.precision),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ');
  return [
    line(head),
    width.map((w) => '-'.repeat(w)).join('  '),
    ...body.map(line),
    `targets: recall ≥ ${TARGETS.recall}, precision ≥ ${TARGETS.precision} (before the investigator's review)`,
  ].join('\n');
}
