/** Patient (PID): identifiers (MRN, resident ID number), names, sex, birth, death, addresses, telecom. */
import { dataQualityMark } from '../../shared/data-quality.js';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../../shared/id-number.js';
import { Hl7ParseError, type Hl7ErrorLocation } from '../errors.js';
import type { Hl7Composite, Hl7Segment } from '../parser.js';
import type { Address, ContactPoint, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import type { Ctx, PatientCtx } from './context.js';
import { asCode, compact, mapAddress, mapName, mapTelecom, V2_0203 } from './datatypes.js';

const MRN_TYPES = new Set(['MR', 'MRN', 'PI', 'PT', 'PN']);
const RESIDENT_TYPES = new Set(['ID', 'NNCHN', 'RID', 'SFZ']);

export interface MappedId {
  identifier: Identifier;
  kind: 'resident' | 'mrn' | 'other';
}

/**
 * One CX identifier. A resident ID number that fails GB 11643 is kept with its value as sent and
 * a data-quality mark, typed NI (so masking treats it as an ID number) but without the resident
 * system: it is never a conditional key, a merge target or a deterministic link. With `location`
 * the sender hears of it in the ACK (ERR, severity W).
 */
export function mapCx(cx: Hl7Composite, ctx: Ctx, label: string, location?: Hl7ErrorLocation): MappedId | undefined {
  const value = cx.value(1);
  if (!value) return undefined;
  const type = cx.value(5)?.toUpperCase();
  const authority = `${cx.value(4, 1) ?? ''} ${cx.value(4, 2) ?? ''}`.toUpperCase();
  const compactValue = value.replace(/\s+/g, '').toUpperCase();
  const residentTyped = (type !== undefined && RESIDENT_TYPES.has(type)) || (type === 'NN' && authority.includes('CHN'));
  const looksResident = type === undefined && /^\d{17}[\dX]$/.test(compactValue) && parseIdNumber(compactValue).ok;
  if (residentTyped || looksResident) {
    const parsed = parseIdNumber(compactValue);
    if (parsed.ok) {
      return {
        kind: 'resident',
        identifier: {
          use: 'official',
          type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码' },
          system: RESIDENT_ID_SYSTEM,
          value: compactValue,
        },
      };
    }
    ctx.warn(
      `${label}: 公民身份号码未通过校验，已按原值保存并标记 / resident ID number failed validation (${parsed.reason}); kept as sent with a data-quality mark, without the resident ID system`,
      location,
    );
    return {
      kind: 'other',
      identifier: {
        extension: [dataQualityMark(parsed.reason)],
        type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码（未通过校验 / failed validation）' },
        value,
      },
    };
  }
  if (type === undefined || MRN_TYPES.has(type)) {
    return { kind: 'mrn', identifier: { use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: ctx.mrnSystem, value } };
  }
  const uid = cx.value(4, 2);
  const uidType = cx.value(4, 3)?.toUpperCase();
  const system = uid && uidType === 'ISO' && /^[0-2](\.(0|[1-9]\d*))+$/.test(uid) ? `urn:oid:${uid}` : undefined;
  return { kind: 'other', identifier: compact({ type: { coding: [{ system: V2_0203, code: asCode(type) }] }, system, value }) };
}

function mapIdentifiers(pid: Hl7Segment, ctx: Ctx): MappedId[] {
  let list = pid.reps(3).map((cx, i) => mapCx(cx, ctx, `${ctx.label(pid, 3)}[${i + 1}]`, { ...pid.location(3), repetition: i + 1 }));
  if (!list.some(Boolean)) list = pid.reps(2).map((cx, i) => mapCx(cx, ctx, ctx.label(pid, 2), { ...pid.location(2), repetition: i + 1 }));
  const out = list.filter((x): x is MappedId => x !== undefined);
  // PID-19 (SSN) carries the resident ID number in many Chinese HIS interfaces: accept it if it validates.
  const ssn = pid.value(19)?.replace(/\s+/g, '').toUpperCase();
  if (ssn && !out.some((m) => m.kind === 'resident') && parseIdNumber(ssn).ok) {
    out.push({
      kind: 'resident',
      identifier: {
        use: 'official',
        type: { coding: [{ system: V2_0203, code: 'NI' }], text: '居民身份证号码' },
        system: RESIDENT_ID_SYSTEM,
        value: ssn,
      },
    });
  }
  // drop exact duplicates
  const seen = new Set<string>();
  return out.filter((m) => {
    const k = `${m.identifier.system}|${m.identifier.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function chooseKey(ids: MappedId[], ctx: Ctx): Identifier | undefined {
  const mrn = ids.find((m) => m.kind === 'mrn');
  const resident = ids.find((m) => m.kind === 'resident');
  const order = ctx.patientKey === 'resident-id' ? [resident, mrn] : [mrn, resident];
  const pick = order.find(Boolean) ?? ids.find((m) => m.identifier.system);
  return pick ? { system: pick.identifier.system, value: pick.identifier.value } : undefined;
}

const SEX: Record<string, Patient['gender']> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  U: 'unknown',
  N: 'unknown',
  '1': 'male', // GB/T 2261.1
  '2': 'female',
  '0': 'unknown',
  '9': 'unknown',
  男: 'male',
  女: 'female',
};

export function mapPatient(pid: Hl7Segment, ctx: Ctx, mode: 'update' | 'create'): PatientCtx {
  const ids = mapIdentifiers(pid, ctx);
  const key = chooseKey(ids, ctx);
  if (!key) {
    throw new Hl7ParseError(
      'MISSING_FIELD',
      `${ctx.label(pid, 3)} (patient identifier list) has no usable patient identifier`,
      pid.location(3),
    );
  }
  const deceasedAt = ctx.dateTime(pid, 29);
  const deceasedFlag = pid.value(30)?.toUpperCase();
  const patient: Patient = compact({
    resourceType: 'Patient' as const,
    identifier: ids.map((m) => m.identifier),
    name: pid
      .reps(5)
      .map(mapName)
      .filter((n): n is HumanName => !!n),
    telecom: [...pid.reps(13).map((x) => mapTelecom(x, 'home')), ...pid.reps(14).map((x) => mapTelecom(x, 'work'))].filter(
      (t): t is ContactPoint => !!t,
    ),
    gender: SEX[pid.value(8)?.toUpperCase() ?? ''],
    birthDate: ctx.date(pid, 7),
    deceasedDateTime: deceasedAt,
    deceasedBoolean: deceasedAt ? undefined : deceasedFlag === 'Y' ? true : deceasedFlag === 'N' ? false : undefined,
    address: pid
      .reps(11)
      .map(mapAddress)
      .filter((a): a is Address => !!a),
  });
  const { entry } = ctx.builder.add(patient, key, mode);
  return { entry, key };
}
