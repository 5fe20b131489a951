/**
 * Fellegi–Sunter record linkage. Each pair of records is compared field by field into agreement
 * levels; each level carries a weight log2(m/u), where m = P(level | same person) and
 * u = P(level | different people). The pair's score is the sum. m and u are estimated from the
 * data by EM on candidate pairs (Fellegi & Sunter 1969; Winkler 1988, "Using the EM algorithm
 * for weight computation in the Fellegi–Sunter model of record linkage").
 *
 * Decision (thresholds in config/identity/linkage.json): a valid resident ID number shared by
 * both records decides (assurance level4); otherwise score ≥ upper links (level3), lower ≤ score
 * < upper goes to the review queue, score < lower makes a new person.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IdentityRecord } from './record.js';

export const FIELDS = {
  name: ['exact', 'pinyin', 'similar', 'differ'],
  birth: ['exact', 'swap', 'near', 'differ'],
  sex: ['agree', 'differ'],
  phone: ['agree', 'differ'],
  address: ['exact', 'area', 'differ'],
  id: ['agree', 'near', 'differ'],
} as const;
export type Field = keyof typeof FIELDS;
export const FIELD_NAMES = Object.keys(FIELDS) as Field[];
/** Comparison of one pair: level index per field, -1 when a side is missing the field. */
export type Comparison = Record<Field, number>;

export interface MU {
  m: number[];
  u: number[];
}
export type Parameters = Record<Field, MU>;

export interface LinkageConfig {
  thresholds: { upper: number; lower: number };
  defaults: Parameters;
  /** Share of candidate pairs that are matches (EM starting value). */
  priorMatchShare: number;
}

const configFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../config/identity/linkage.json');
let cachedConfig: LinkageConfig | undefined;
export function loadLinkageConfig(): LinkageConfig {
  if (!cachedConfig) {
    const raw = JSON.parse(fs.readFileSync(configFile, 'utf8')) as {
      thresholds: LinkageConfig['thresholds'];
      priorMatchShare: number;
      defaults: Record<Field, Record<string, [number, number]>>;
    };
    const defaults = {} as Parameters;
    for (const f of FIELD_NAMES) {
      const levels = FIELDS[f];
      defaults[f] = { m: levels.map((l) => raw.defaults[f][l]![0]), u: levels.map((l) => raw.defaults[f][l]![1]) };
    }
    cachedConfig = { thresholds: raw.thresholds, priorMatchShare: raw.priorMatchShare, defaults };
  }
  return cachedConfig;
}

// ------------------------------------------------------------------------------ comparisons

function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (!la || !lb) return 0;
  const range = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const ma = new Array<boolean>(la).fill(false);
  const mb = new Array<boolean>(lb).fill(false);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    for (let j = Math.max(0, i - range); j < Math.min(lb, i + range + 1); j++) {
      if (!mb[j] && a[i] === b[j]) {
        ma[i] = mb[j] = true;
        matches++;
        break;
      }
    }
  }
  if (!matches) return 0;
  let t = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (!ma[i]) continue;
    while (!mb[k]) k++;
    if (a[i] !== b[k]) t++;
    k++;
  }
  const jaro = (matches / la + matches / lb + (matches - t / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

function compareName(a: IdentityRecord, b: IdentityRecord): number {
  if (!a.namePinyin || !b.namePinyin) return -1;
  if (a.name === b.name) return 0;
  if (a.namePinyin === b.namePinyin) return 1;
  const ca = [...a.name];
  const cb = [...b.name];
  if (ca.length === cb.length && ca.length >= 2 && a.familyPinyin === b.familyPinyin) {
    let diff = 0;
    for (let i = 0; i < ca.length; i++) if (ca[i] !== cb[i]) diff++;
    if (diff === 1) return 2;
  }
  return jaroWinkler(a.namePinyin, b.namePinyin) >= 0.9 ? 2 : 3;
}

function compareBirth(a?: string, b?: string): number {
  if (!a || !b) return -1;
  if (a === b) return 0;
  const [ya, ma, da] = a.split('-');
  const [yb, mb, db] = b.split('-');
  if (ya === yb && ma === db && da === mb) return 1;
  let diff = 0;
  const sa = a.replace(/-/g, '');
  const sb = b.replace(/-/g, '');
  if (sa.length === sb.length) for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) diff++;
  return diff === 1 ? 2 : 3;
}

function compareId(a: IdentityRecord, b: IdentityRecord): number {
  const x = a.idRaw;
  const y = b.idRaw;
  if (!x || !y) return -1;
  if (x === y) return a.idNumber ? 0 : 1;
  if (x.length !== y.length) return 2;
  const d: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) d.push(i);
  // a keying slip: one or two wrong digits, or two neighbours swapped
  if (d.length <= 2) return 1;
  return 2;
}

export function compare(a: IdentityRecord, b: IdentityRecord): Comparison {
  return {
    name: compareName(a, b),
    birth: compareBirth(a.birthDate, b.birthDate),
    sex: a.sex && b.sex ? (a.sex === b.sex ? 0 : 1) : -1,
    phone: a.phone && b.phone ? (a.phone === b.phone ? 0 : 1) : -1,
    address: a.address && b.address ? (a.address === b.address ? 0 : a.areaCode && a.areaCode === b.areaCode ? 1 : 2) : -1,
    id: compareId(a, b),
  };
}

// ------------------------------------------------------------------------------ weights

export type Weights = Record<Field, number[]>;

export function weightsOf(p: Parameters): Weights {
  const w = {} as Weights;
  for (const f of FIELD_NAMES) w[f] = p[f].m.map((m, i) => Math.log2(Math.max(m, 1e-9) / Math.max(p[f].u[i]!, 1e-9)));
  return w;
}

export function score(c: Comparison, w: Weights): number {
  let s = 0;
  for (const f of FIELD_NAMES) {
    const l = c[f];
    if (l >= 0) s += w[f][l]!;
  }
  return s;
}

// ------------------------------------------------------------------------------ EM

/**
 * Estimates m and u from unlabelled comparison vectors (conditional independence between
 * fields; a missing field contributes nothing). Returns the fitted parameters and the match share.
 */
export function fitEm(
  comparisons: Comparison[],
  start: Parameters,
  priorMatchShare: number,
  iterations = 50,
  fixedU?: Record<Field, number[]>,
): { parameters: Parameters; matchShare: number; iterations: number } {
  // Collapse identical patterns: EM then costs per distinct pattern, not per pair.
  const patterns = new Map<string, { c: Comparison; n: number }>();
  for (const c of comparisons) {
    const k = FIELD_NAMES.map((f) => c[f]).join(',');
    const e = patterns.get(k);
    if (e) e.n++;
    else patterns.set(k, { c, n: 1 });
  }
  const list = [...patterns.values()];
  let p = priorMatchShare;
  let params: Parameters = JSON.parse(JSON.stringify(start)) as Parameters;
  if (fixedU) for (const f of FIELD_NAMES) params[f].u = fixedU[f];
  let it = 0;
  for (; it < iterations; it++) {
    const mAcc = {} as Record<Field, number[]>;
    const uAcc = {} as Record<Field, number[]>;
    for (const f of FIELD_NAMES) {
      mAcc[f] = FIELDS[f].map(() => 0);
      uAcc[f] = FIELDS[f].map(() => 0);
    }
    let gSum = 0;
    let total = 0;
    for (const { c, n } of list) {
      let lm = Math.log(p);
      let lu = Math.log(1 - p);
      for (const f of FIELD_NAMES) {
        const l = c[f];
        if (l < 0) continue;
        lm += Math.log(Math.max(params[f].m[l]!, 1e-12));
        lu += Math.log(Math.max(params[f].u[l]!, 1e-12));
      }
      const g = 1 / (1 + Math.exp(lu - lm));
      gSum += g * n;
      total += n;
      for (const f of FIELD_NAMES) {
        const l = c[f];
        if (l < 0) continue;
        mAcc[f][l]! += g * n;
        uAcc[f][l]! += (1 - g) * n;
      }
    }
    const next = {} as Parameters;
    let change = 0;
    for (const f of FIELD_NAMES) {
      // add-one smoothing keeps rare levels from collapsing to 0 or 1
      const ms = mAcc[f].reduce((a, b) => a + b, 0) + mAcc[f].length * 0.5;
      const us = uAcc[f].reduce((a, b) => a + b, 0) + uAcc[f].length * 0.5;
      next[f] = { m: mAcc[f].map((x) => (x + 0.5) / ms), u: fixedU ? fixedU[f] : uAcc[f].map((x) => (x + 0.5) / us) };
      next[f].m.forEach((v, i) => (change = Math.max(change, Math.abs(v - params[f].m[i]!))));
    }
    params = next;
    p = Math.min(0.999, Math.max(1e-6, gSum / Math.max(total, 1)));
    if (change < 1e-5) break;
  }
  return { parameters: params, matchShare: p, iterations: it + 1 };
}

/**
 * u from random pairs: almost every random pair is two different people, so the level shares
 * among random pairs estimate u directly (the approach of Splink and fastLink); EM then only has
 * to find m, which keeps it from mistaking households (same address and phone) for persons.
 */
export function estimateU(randomComparisons: Comparison[]): Record<Field, number[]> {
  const u = {} as Record<Field, number[]>;
  for (const f of FIELD_NAMES) {
    const counts = FIELDS[f].map(() => 1);
    for (const c of randomComparisons) if (c[f] >= 0) counts[c[f]]!++;
    const total = counts.reduce((a, b) => a + b, 0);
    u[f] = counts.map((n) => n / total);
  }
  return u;
}

// ------------------------------------------------------------------------------ decision

export interface Candidate {
  record: IdentityRecord;
  personId: string;
}

export type Assurance = 'level1' | 'level2' | 'level3' | 'level4';

export interface PersonScore {
  personId: string;
  score: number;
  /** The candidate record that scored best for this person. */
  patientId: string;
  comparison: Comparison;
  idMatch: boolean;
}

export interface Decision {
  kind: 'id' | 'auto' | 'review' | 'new';
  /** The person linked to (id, auto) or proposed (review). */
  personId?: string;
  score?: number;
  assurance: Assurance;
  ranked: PersonScore[];
}

export function rankCandidates(r: IdentityRecord, candidates: Candidate[], w: Weights): PersonScore[] {
  const best = new Map<string, PersonScore>();
  for (const c of candidates) {
    if (c.record.patientId === r.patientId) continue;
    const comparison = compare(r, c.record);
    const s = score(comparison, w);
    const idMatch = !!r.idNumber && r.idNumber === c.record.idNumber;
    const prev = best.get(c.personId);
    if (!prev || (idMatch && !prev.idMatch) || (idMatch === prev.idMatch && s > prev.score)) {
      best.set(c.personId, { personId: c.personId, score: s, patientId: c.record.patientId, comparison, idMatch });
    }
  }
  return [...best.values()].sort((a, b) => Number(b.idMatch) - Number(a.idMatch) || b.score - a.score);
}

export function decide(r: IdentityRecord, candidates: Candidate[], w: Weights, thresholds: LinkageConfig['thresholds']): Decision {
  const ranked = rankCandidates(r, candidates, w);
  const top = ranked[0];
  if (top?.idMatch) return { kind: 'id', personId: top.personId, score: top.score, assurance: 'level4', ranked };
  if (top && top.score >= thresholds.upper) return { kind: 'auto', personId: top.personId, score: top.score, assurance: 'level3', ranked };
  if (top && top.score >= thresholds.lower)
    return { kind: 'review', personId: top.personId, score: top.score, assurance: 'level2', ranked };
  return { kind: 'new', assurance: r.idNumber ? 'level4' : 'level3', ranked };
}

/** In-memory blocking index (tests, benchmark, $match on a sample). */
export class MemoryIndex {
  private readonly byKey = new Map<string, Candidate[]>();
  add(c: Candidate, keys: string[]): void {
    for (const k of keys) {
      const list = this.byKey.get(k);
      if (list) list.push(c);
      else this.byKey.set(k, [c]);
    }
  }
  lookup(keys: string[]): Candidate[] {
    const seen = new Set<Candidate>();
    for (const k of keys) for (const c of this.byKey.get(k) ?? []) seen.add(c);
    return [...seen];
  }
}
