/** Observation (OBX): value by OBX-2 type, units, interpretation, reference range. */
import { UCUM_SYSTEM } from '../../shared/uris.js';
import { hl7ToFhirDateTime, type Hl7Segment } from '../parser.js';
import type { CodeableConcept, Observation, Quantity, Specimen } from '@medplum/fhirtypes';
import type { BuiltEntry } from './contract.js';
import { ref } from './bundle.js';
import type { Ctx, EncounterCtx, PatientCtx } from './context.js';
import { asCode, codingSystemUri, compact, concept, DATA_ABSENT, INTERPRETATION, OBS_CATEGORY, toNumber } from './datatypes.js';

const OBX_STATUS: Record<string, Observation['status']> = {
  F: 'final',
  U: 'final',
  C: 'corrected',
  A: 'amended',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  I: 'registered',
  O: 'registered',
  D: 'entered-in-error',
  W: 'entered-in-error',
  X: 'cancelled',
  N: 'cancelled',
};

const V3_INTERPRETATION = new Set([
  '<',
  '>',
  'A',
  'AA',
  'AC',
  'B',
  'CAR',
  'D',
  'DET',
  'E',
  'EX',
  'EXP',
  'H',
  'HH',
  'HU',
  'HX',
  'I',
  'IE',
  'IND',
  'L',
  'LL',
  'LU',
  'LX',
  'MS',
  'N',
  'NCL',
  'ND',
  'NEG',
  'NR',
  'NS',
  'POS',
  'QCF',
  'R',
  'RR',
  'S',
  'SDD',
  'SYN-R',
  'SYN-S',
  'TOX',
  'U',
  'UNE',
  'VS',
  'W',
  'WR',
]);

function unitOf(obx: Hl7Segment): Omit<Quantity, 'value' | 'comparator'> {
  const u = obx.rep(6);
  if (!u) return {};
  const code = asCode(u.value(1));
  const text = u.value(2);
  const isUcum = codingSystemUri(u.value(3)) === UCUM_SYSTEM;
  return compact({ unit: text ?? code, system: isUcum && code ? UCUM_SYSTEM : undefined, code: isUcum ? code : undefined });
}

function quantity(value: number, units: Omit<Quantity, 'value' | 'comparator'>, comparator?: string): Quantity {
  const q: Quantity = { value, ...units };
  if (comparator === '<' || comparator === '>' || comparator === '<=' || comparator === '>=') q.comparator = comparator;
  return q;
}

function parseReferenceRange(
  text: string,
  units: Omit<Quantity, 'value' | 'comparator'>,
): NonNullable<Observation['referenceRange']>[number] {
  const num = '([+-]?\\d*\\.?\\d+)';
  const between = new RegExp(`^\\s*${num}\\s*(?:-|–|~|～|－|to|TO)\\s*${num}\\s*$`).exec(text);
  if (between) return { low: { value: Number(between[1]), ...units }, high: { value: Number(between[2]), ...units }, text };
  const upper = new RegExp(`^\\s*(?:<=|<|≤|＜)\\s*${num}\\s*$`).exec(text);
  if (upper) return { high: { value: Number(upper[1]), ...units }, text };
  const lower = new RegExp(`^\\s*(?:>=|>|≥|＞)\\s*${num}\\s*$`).exec(text);
  if (lower) return { low: { value: Number(lower[1]), ...units }, text };
  return { text };
}

/** Fills value[x] from OBX-2/OBX-5 (left empty when OBX-5 has no usable value). */
function setObservationValue(obs: Observation, obx: Hl7Segment, ctx: Ctx): void {
  const type = obx.value(2)?.toUpperCase() ?? '';
  const reps = obx.reps(5);
  const first = reps[0];
  if (!first) return;
  const units = unitOf(obx);
  const label = ctx.label(obx, 5);
  switch (type) {
    case 'NM': {
      const raw = first.value(1);
      const n = toNumber(raw);
      const cmp = raw ? /^(<=|>=|<|>)\s*(.+)$/.exec(raw) : null;
      if (n !== undefined) obs.valueQuantity = quantity(n, units);
      else if (cmp && toNumber(cmp[2]) !== undefined) obs.valueQuantity = quantity(toNumber(cmp[2])!, units, cmp[1]);
      else if (raw) {
        obs.valueString = raw;
        ctx.warn(`${label}: NM value ${JSON.stringify(raw)} is not a number; stored as text`);
      }
      break;
    }
    case 'SN': {
      const comparator = first.value(1);
      const n1 = toNumber(first.value(2));
      const sep = first.value(3);
      const n2 = toNumber(first.value(4));
      if (n1 !== undefined && n2 !== undefined && (sep === ':' || sep === '/')) {
        obs.valueRatio = { numerator: { value: n1 }, denominator: { value: n2 } };
      } else if (n1 !== undefined && n2 !== undefined && sep === '-') {
        obs.valueRange = { low: { value: n1, ...units }, high: { value: n2, ...units } };
      } else if (n1 !== undefined && !sep && (!comparator || ['<', '>', '<=', '>=', '='].includes(comparator))) {
        obs.valueQuantity = quantity(n1, units, comparator);
      } else {
        const text = [comparator, first.value(2), sep, first.value(4)].filter(Boolean).join('');
        if (text) obs.valueString = text;
      }
      break;
    }
    case 'CE':
    case 'CWE':
    case 'CNE':
    case 'CF':
    case 'CV': {
      const cc = concept(first);
      if (cc) obs.valueCodeableConcept = cc;
      break;
    }
    case 'DT':
    case 'TS':
    case 'DTM':
    case 'DR': {
      const dt = hl7ToFhirDateTime(first.value(1), label, ctx.tz);
      if (dt) obs.valueDateTime = dt;
      break;
    }
    case 'TM': {
      const m = /^(\d{2})(\d{2})?(\d{2})?/.exec(first.value(1) ?? '');
      if (m && Number(m[1]) < 24 && Number(m[2] ?? 0) < 60 && Number(m[3] ?? 0) < 60)
        obs.valueTime = `${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}`;
      break;
    }
    case 'ED':
    case 'RP': {
      // Attachments are not an Observation value type in R4; keep a pointer as text, mark embedded data absent.
      const pointer = type === 'RP' ? first.value(1) : undefined;
      if (pointer) obs.valueString = pointer;
      else
        obs.dataAbsentReason = { coding: [{ system: DATA_ABSENT, code: 'unsupported' }], text: `OBX-2 ${type} (embedded data) not stored` };
      return;
    }
    default: {
      // ST, TX, FT, ID, IS, and anything unknown: text, repetitions on separate lines.
      const text = reps
        .map((r) => r.value(1))
        .filter(Boolean)
        .join('\n');
      if (text) obs.valueString = text;
      return;
    }
  }
  if (reps.length > 1) {
    const extra = reps
      .slice(1)
      .map((r) => r.toString())
      .join(', ');
    obs.note = [...(obs.note ?? []), { text: `Additional ${label} values: ${extra}` }];
  }
}

interface ObsContext {
  patient: PatientCtx;
  encounter?: EncounterCtx;
  /** Scope for the derived identifier (order key or visit key). */
  scope: string;
  category?: string;
  specimen?: BuiltEntry<Specimen>;
  effectiveFallback?: string;
}

export function mapObservation(obx: Hl7Segment, oc: ObsContext, ctx: Ctx): BuiltEntry<Observation> | undefined {
  const code = concept(obx.rep(3));
  if (!code) {
    ctx.warn(`${ctx.label(obx, 3)} (observation identifier) is empty: OBX skipped`);
    return undefined;
  }
  const codeKey = code.coding?.[0]?.code ?? code.text!;
  const subId = obx.value(4);
  const key = ctx.derived(`${oc.scope}/obs:${codeKey}${subId ? `/${subId}` : ''}`, true);
  const obs: Observation = {
    resourceType: 'Observation',
    identifier: [key],
    status: OBX_STATUS[obx.value(11)?.toUpperCase() ?? ''] ?? 'unknown',
    code,
    subject: ref(oc.patient.entry),
  };
  if (oc.category) obs.category = [{ coding: [{ system: OBS_CATEGORY, code: oc.category }] }];
  if (oc.encounter) obs.encounter = ref(oc.encounter.entry);
  const effective = ctx.dateTime(obx, 14) ?? oc.effectiveFallback;
  if (effective) obs.effectiveDateTime = effective;
  setObservationValue(obs, obx, ctx);
  const interpretation = obx
    .reps(8)
    .map((r): CodeableConcept | undefined => {
      const c = asCode(r.value(1)?.toUpperCase());
      if (!c) return undefined;
      return V3_INTERPRETATION.has(c) ? { coding: [{ system: INTERPRETATION, code: c }] } : { text: r.value(2) ?? c };
    })
    .filter((c): c is CodeableConcept => !!c);
  if (interpretation.length) obs.interpretation = interpretation;
  const range = obx.value(7);
  if (range)
    obs.referenceRange = [parseReferenceRange(range, { ...unitOf(obx), system: undefined, code: undefined })].map((r) => {
      if (r.low) r.low = compact(r.low);
      if (r.high) r.high = compact(r.high);
      return r;
    });
  const method = concept(obx.rep(17));
  if (method) obs.method = method;
  if (oc.specimen) obs.specimen = ref(oc.specimen);
  return ctx.builder.add(obs, key, 'update').entry;
}
