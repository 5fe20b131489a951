/**
 * The ORU^R01 that carries a verified result back to the ordering facility (pure): MSH, PID,
 * ORC, OBR, OBX, SPM in HL7 v2.5.1, built once at verification and stored in the outbox so every
 * attempt and every resend sends the same bytes under the same MSH-10. `readAck` reads the
 * receiver's answer (original or enhanced mode).
 */
import type { Patient, ServiceRequest } from '@medplum/fhirtypes';
import { escapeHl7, parseHl7 } from '../hl7v2/index.js';
import { RESIDENT_ID_SYSTEM } from '../shared/uris.js';
import type { OrderRow, SpecimenRow } from './store.js';

/** HL7 DTM in China time (+0800), to the second. */
export function hl7Time(d: Date): string {
  const t = new Date(d.getTime() + 8 * 3_600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}+0800`;
}

const e = (v: string | null | undefined) => escapeHl7(v ?? '');
/** A segment, trailing empty fields dropped. */
const seg = (fields: string[]): string => {
  let n = fields.length;
  while (n > 1 && fields[n - 1] === '') n--;
  return fields.slice(0, n).join('|');
};

const INTERPRETATION_FLAG: Record<string, string> = { positive: 'POS', negative: 'NEG', indeterminate: 'IND' };
const SEX: Record<string, string> = { male: 'M', female: 'F', other: 'O', unknown: 'U' };

export interface OruInput {
  controlId: string;
  builtAt: Date;
  sendingApplication: string;
  receivingApplication: string;
  receivingFacility: string;
  specimen: SpecimenRow;
  order: OrderRow;
  patient: Patient | null;
  /** The ordering system's own order number (the ServiceRequest's placer identifier), when it sent one. */
  placerOrder: string | null;
}

function patientIds(p: Patient | null, patientId: string | null): string {
  const ids: string[] = [];
  for (const id of p?.identifier ?? []) {
    if (!id.value) continue;
    if (id.system === RESIDENT_ID_SYSTEM) ids.push(`${e(id.value)}^^^CHN&1.2.156.112606.1.2.1&ISO^NNCHN`);
    else if (id.type?.coding?.some((c) => c.code === 'MR'))
      ids.push(`${e(id.value)}^^^${e(id.assigner?.identifier?.value ?? id.assigner?.display ?? '')}^MR`);
  }
  if (patientId) ids.push(`${e(patientId)}^^^YIFANG^PI`);
  return ids.join('~');
}

function patientName(p: Patient | null): string {
  const n = p?.name?.[0];
  if (!n) return '';
  if (n.family || n.given?.length) return `${e(n.family)}^${e(n.given?.join(' '))}`;
  return e(n.text);
}

export function buildOru(x: OruInput): string {
  const s = x.specimen;
  const o = x.order;
  const test = `${e(o.testCode)}^${e(o.testName ?? '')}^${o.testSystem?.includes('loinc') ? 'LN' : 'L'}`;
  const placer = e(x.placerOrder ?? o.id);
  const filler = `${e(s.barcode)}^${e(s.lab ?? '')}`;
  const verified = s.verifiedAt ?? x.builtAt;
  const flag = s.resultInterpretation ? (INTERPRETATION_FLAG[s.resultInterpretation] ?? '') : '';
  const segments = [
    seg([
      'MSH',
      '^~\\&',
      e(x.sendingApplication),
      e(s.lab ?? ''),
      e(x.receivingApplication),
      e(x.receivingFacility || o.orderingUnit),
      hl7Time(x.builtAt),
      '',
      'ORU^R01^ORU_R01',
      e(x.controlId),
      'P',
      '2.5.1',
      '',
      '',
      '',
      '',
      'CHN',
      'UNICODE UTF-8',
    ]),
    seg([
      'PID',
      '1',
      '',
      patientIds(x.patient, s.patientId),
      '',
      patientName(x.patient),
      '',
      x.patient?.birthDate?.replace(/-/g, '') ?? '',
      SEX[x.patient?.gender ?? ''] ?? '',
    ]),
    seg([
      'ORC',
      'RE',
      placer,
      filler,
      '',
      'CM',
      '',
      '',
      '',
      hl7Time(verified),
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      e(o.orderingUnit),
    ]),
    seg([
      'OBR',
      '1',
      placer,
      filler,
      test,
      '',
      '',
      hl7Time(s.collectedAt),
      '',
      '',
      e(s.collector),
      '',
      '',
      '',
      s.receivedAt ? hl7Time(s.receivedAt) : '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      hl7Time(verified),
      '',
      '',
      'F',
    ]),
    seg([
      'OBX',
      '1',
      'ST',
      test,
      '',
      e(s.resultValue),
      '',
      '',
      flag,
      '',
      '',
      'F',
      '',
      '',
      hl7Time(s.resultAt ?? verified),
      e(s.lab ?? ''),
      '',
      '',
      '',
      hl7Time(verified),
    ]),
    seg([
      'SPM',
      '1',
      `^${e(s.barcode)}&${e(s.lab ?? '')}`,
      '',
      `^${e(s.specimenType ?? '')}`,
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      '',
      hl7Time(s.collectedAt),
      s.receivedAt ? hl7Time(s.receivedAt) : '',
    ]),
  ];
  return segments.join('\r') + '\r';
}

/** The placer order number a hospital's ServiceRequest carries (type PLAC), if any. */
export function placerOrderOf(sr: ServiceRequest | undefined): string | null {
  const id = sr?.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'PLAC'));
  return id?.value ?? null;
}

export interface AckReading {
  code: 'AA' | 'AE' | 'AR';
  /** MSA-2: the control id the answer is about. */
  ackedControlId: string;
  /** The receiver's words: ERR-8, else MSA-3. */
  text: string;
}

/** Reads an ACK (MSA-1 AA/AE/AR, or CA/CE/CR in enhanced mode); throws when it is not one. */
export function readAck(raw: Buffer | string): AckReading {
  const m = parseHl7(raw);
  const msa = m.segment('MSA');
  if (!msa) throw new Error('the answer has no MSA segment');
  const c = (msa.value(1) ?? '').toUpperCase();
  const code = c === 'AA' || c === 'CA' ? 'AA' : c === 'AE' || c === 'CE' ? 'AE' : c === 'AR' || c === 'CR' ? 'AR' : undefined;
  if (!code) throw new Error(`MSA-1 '${c}' is not an acknowledgment code`);
  const err = m.segment('ERR');
  const text = err?.value(8) || msa.value(3) || err?.value(3, 2) || '';
  return { code, ackedControlId: msa.value(2) ?? '', text };
}
