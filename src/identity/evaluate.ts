/**
 * Linkage quality against the simulator's ground truth: loads every Patient a simulated district
 * produced (FHIR Patient.ndjson and the Patients of its HL7 feeds), links them in memory with the
 * production matcher, and counts pairwise confusion against truth.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Patient } from '@medplum/fhirtypes';
import { decodeMessage, parseHl7, toFhir, type BuiltEntry } from '../hl7v2/index.js';
import {
  compare,
  decide,
  fitEm,
  loadLinkageConfig,
  MemoryIndex,
  weightsOf,
  type Comparison,
  type Parameters,
  type Weights,
} from './linkage.js';
import { blockingKeys, toIdentityRecord, type IdentityRecord } from './record.js';

export interface LabelledRecord {
  record: IdentityRecord;
  truePerson: string;
}

/** Reads a simulator output directory into identity records with their true person. */
export function loadSimulatedIdentities(dir: string): LabelledRecord[] {
  const out: LabelledRecord[] = [];
  const byIdNumber = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(dir, 'fhir', 'Patient.ndjson'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as Patient;
    const truePerson = p.id!.replace(/-v\d+$/, '');
    const record = toIdentityRecord(p);
    if (record.idNumber && truePerson === p.id) byIdNumber.set(record.idNumber, truePerson);
    out.push({ record, truePerson });
  }
  const truth = JSON.parse(fs.readFileSync(path.join(dir, 'truth.json'), 'utf8')) as {
    identities: { personId: string; records: { source: string; facility: string; id: string }[] }[];
  };
  const hl7Truth = new Map<string, string>();
  for (const p of truth.identities)
    for (const r of p.records) if (r.source === 'hl7v2') hl7Truth.set(`${r.facility.replace(/^org-/, '')}|${r.id}`, p.personId);
  const seen = new Set<string>();
  const hl7Dir = path.join(dir, 'hl7');
  for (const file of fs.existsSync(hl7Dir) ? fs.readdirSync(hl7Dir).filter((f) => f.endsWith('.hl7')) : []) {
    const text = fs.readFileSync(path.join(hl7Dir, file));
    let start = 0;
    const msgs: Buffer[] = [];
    for (let i = 1; i <= text.length; i++) {
      if (
        i === text.length ||
        ((text[i - 1] === 0x0d || text[i - 1] === 0x0a) && text[i] === 0x4d && text[i + 1] === 0x53 && text[i + 2] === 0x48)
      ) {
        msgs.push(text.subarray(start, i));
        start = i;
      }
    }
    for (const raw of msgs) {
      let patient: Patient | undefined;
      let facility: string;
      try {
        const d = decodeMessage(raw);
        const m = parseHl7(d.text.replace(/\n/g, '\r'), { encoding: d.encoding });
        const r = toFhir(m);
        facility = r.facilityId;
        patient = r.bundle.entry.find((e): e is BuiltEntry<Patient> => e.resource.resourceType === 'Patient')?.resource;
      } catch {
        continue;
      }
      if (!patient) continue;
      const mrn = patient.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'))?.value ?? '';
      const key = `${facility}|${mrn}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const record = toIdentityRecord({ ...patient, id: `hl7-${facility}-${mrn}` } as Patient);
      record.facility ||= facility;
      const truePerson = hl7Truth.get(key) ?? (record.idNumber ? byIdNumber.get(record.idNumber) : undefined) ?? `unknown:${key}`;
      out.push({ record, truePerson });
    }
  }
  return out;
}

export interface LinkageResult {
  records: number;
  persons: number;
  truePairs: number;
  predictedPairs: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  review: number;
  reviewTrue: number;
  decisions: Record<string, number>;
  recordsPerSecond: number;
}

const pairs = (n: number) => (n * (n - 1)) / 2;

/** Comparisons of candidate pairs for EM (each record against the records sharing a key). */
export function candidateComparisons(records: IdentityRecord[], sample = 20_000): Comparison[] {
  const index = new MemoryIndex();
  for (const r of records) index.add({ record: r, personId: r.patientId }, blockingKeys(r));
  const out: Comparison[] = [];
  const step = Math.max(1, Math.floor(records.length / sample));
  for (let i = 0; i < records.length; i += step) {
    const r = records[i]!;
    for (const c of index.lookup(blockingKeys(r))) if (c.record.patientId < r.patientId) out.push(compare(r, c.record));
  }
  return out;
}

/** Comparisons of random pairs (deterministic sample) for u. */
export function randomComparisons(records: IdentityRecord[], n = 200_000): Comparison[] {
  const out: Comparison[] = [];
  let x = 2463534242;
  const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) % records.length);
  for (let i = 0; i < n && records.length > 1; i++) {
    const a = records[next()]!;
    const b = records[next()]!;
    if (a !== b) out.push(compare(a, b));
  }
  return out;
}

export function fitWeights(records: IdentityRecord[]): { parameters: Parameters; matchShare: number; pairs: number } {
  const cfg = loadLinkageConfig();
  const comps = candidateComparisons(records);
  const fit = fitEm(comps, cfg.defaults, cfg.priorMatchShare, 100);
  return { parameters: fit.parameters, matchShare: fit.matchShare, pairs: comps.length };
}

/** `keysOf` lets experiments try other blocking keys; production uses `blockingKeys`. */
export function evaluateLinkage(
  labelled: LabelledRecord[],
  weights: Weights,
  thresholds = loadLinkageConfig().thresholds,
  keysOf: (r: IdentityRecord) => string[] = blockingKeys,
): LinkageResult {
  const index = new MemoryIndex();
  const personOf = new Map<string, string>();
  const decisions: Record<string, number> = { id: 0, auto: 0, review: 0, new: 0 };
  let review = 0;
  let reviewTrue = 0;
  let nextPerson = 0;
  const t0 = performance.now();
  for (const { record, truePerson } of labelled) {
    const keys = keysOf(record);
    const d = decide(record, index.lookup(keys), weights, thresholds);
    decisions[d.kind]!++;
    let personId: string;
    if (d.kind === 'id' || d.kind === 'auto') personId = d.personId!;
    else {
      personId = `P${nextPerson++}`;
      if (d.kind === 'review') {
        review++;
        const proposed = labelled.find((l) => l.record.patientId === d.ranked[0]!.patientId);
        if (proposed?.truePerson === truePerson) reviewTrue++;
      }
    }
    personOf.set(record.patientId, personId);
    index.add({ record, personId }, keys);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cell = new Map<string, number>();
  const predSize = new Map<string, number>();
  const trueSize = new Map<string, number>();
  for (const { record, truePerson } of labelled) {
    const p = personOf.get(record.patientId)!;
    cell.set(`${p}|${truePerson}`, (cell.get(`${p}|${truePerson}`) ?? 0) + 1);
    predSize.set(p, (predSize.get(p) ?? 0) + 1);
    trueSize.set(truePerson, (trueSize.get(truePerson) ?? 0) + 1);
  }
  let tp = 0;
  for (const n of cell.values()) tp += pairs(n);
  let predicted = 0;
  for (const n of predSize.values()) predicted += pairs(n);
  let truePairs = 0;
  for (const n of trueSize.values()) truePairs += pairs(n);
  return {
    records: labelled.length,
    persons: predSize.size,
    truePairs,
    predictedPairs: predicted,
    truePositives: tp,
    falsePositives: predicted - tp,
    falseNegatives: truePairs - tp,
    precision: predicted ? tp / predicted : 1,
    recall: truePairs ? tp / truePairs : 1,
    review,
    reviewTrue,
    decisions,
    recordsPerSecond: labelled.length / seconds,
  };
}

export { weightsOf };

/** An evaluation's confusion counts as one table row: the CLI and the bench print the same columns. */
export function linkageQualityColumns(r: LinkageResult): Record<string, string | number> {
  return {
    'true pairs': r.truePairs,
    TP: r.truePositives,
    FP: r.falsePositives,
    FN: r.falseNegatives,
    precision: r.precision.toFixed(4),
    recall: r.recall.toFixed(4),
    'review (true)': `${r.review} (${r.reviewTrue})`,
    'by ID / auto / new': `${r.decisions.id} / ${r.decisions.auto} / ${r.decisions.new}`,
  };
}
