/**
 * HL7 v2 data types → FHIR data types: CWE/CE/CNE → CodeableConcept, XCN → Reference, XPN →
 * HumanName, XAD → Address, XTN → ContactPoint, NM → number; HL7 coding-system names → URIs.
 */
import { AREA_CODE_EXTENSION, ICD10_SYSTEM, LOINC_SYSTEM, UCUM_SYSTEM } from '../../shared/uris.js';
import type { Hl7Composite } from '../parser.js';
import type { Address, CodeableConcept, Coding, ContactPoint, HumanName, Practitioner, Reference } from '@medplum/fhirtypes';

// ---------------------------------------------------------------------------------------------
// Small value helpers
// ---------------------------------------------------------------------------------------------

export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const SNOMED = 'http://snomed.info/sct';
const ICD9CM = 'http://hl7.org/fhir/sid/icd-9-cm';
const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const CVX = 'http://hl7.org/fhir/sid/cvx';
export const MVX = 'http://hl7.org/fhir/sid/mvx';
export const NDC = 'http://hl7.org/fhir/sid/ndc';
const NCIT = 'http://ncithesaurus-stage.nci.nih.gov';
export const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
export const NULL_FLAVOR = 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor';
export const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
export const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
export const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';
export const CONDITION_VER = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
export const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason';
export const IMM_FUNCTION = 'http://terminology.hl7.org/CodeSystem/v2-0443';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

/** FHIR `code` values may not have leading/trailing or repeated whitespace. */
export function asCode(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const c = s.replace(/\s+/g, ' ').trim();
  return c === '' ? undefined : c;
}

export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return o;
}

/** Maps an HL7 coding-system name (CWE-3) to a FHIR system URI, when we know one. */
export function codingSystemUri(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const key = name.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (key === 'LN' || key === 'LOINC') return LOINC_SYSTEM;
  if (key === 'SCT' || key === 'SNOMED' || key === 'SNOMEDCT' || key === 'SNM') return SNOMED;
  if (key === 'I10C' || key === 'ICD10CM') return ICD10CM;
  // I10 / ICD10 / ICD-10, and the Chinese national clinical edition (国家临床版, GB/T 14396)
  if (/^I(CD)?10(CN|GB|WHO|GBT14396)?$/.test(key)) return ICD10_SYSTEM;
  if (/^I(CD)?9(CM|C)?$/.test(key)) return ICD9CM;
  if (key === 'CVX') return CVX;
  if (key === 'MVX') return MVX;
  if (key === 'NDC') return NDC;
  if (key === 'UCUM') return UCUM_SYSTEM;
  if (key === 'NCIT') return NCIT;
  const table = /^HL7(\d{4})$/.exec(key);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  return undefined;
}

/** CWE/CE/CNE → CodeableConcept (primary and alternate codings, original text). */
export function concept(
  c: Hl7Composite | undefined,
  systemFor: (name: string | undefined) => string | undefined = codingSystemUri,
): CodeableConcept | undefined {
  if (!c) return undefined;
  const coding: Coding[] = [];
  for (const base of [1, 4]) {
    const code = asCode(c.value(base));
    if (code) coding.push(compact({ system: systemFor(c.value(base + 2)), code, display: c.value(base + 1) }));
  }
  const text = c.value(9) ?? c.value(2) ?? c.value(5) ?? (coding.length ? undefined : c.value(1));
  if (!coding.length && !text) return undefined;
  return compact({ coding, text });
}

export function textConcept(text: string | undefined): CodeableConcept | undefined {
  return text ? { text } : undefined;
}

/** XCN (person with id) → display name. */
function personName(c: Hl7Composite, offset = 0): string | undefined {
  const family = c.value(offset + 1, 1);
  const given = c.value(offset + 2);
  const middle = c.value(offset + 3);
  if (!family && !given) return undefined;
  if ((family && CJK.test(family)) || (given && CJK.test(given))) return `${family ?? ''}${given ?? ''}`;
  return [c.value(offset + 5), given, middle, family].filter(Boolean).join(' ');
}

export function practitionerRef(c: Hl7Composite | undefined): Reference<Practitioner> | undefined {
  if (!c) return undefined;
  const id = c.value(1);
  const display = personName(c, 1);
  if (!id && !display) return undefined;
  return compact({ type: 'Practitioner' as const, identifier: id ? { value: id } : undefined, display });
}

const NAME_USE: Record<string, HumanName['use']> = {
  L: 'official',
  D: 'usual',
  M: 'maiden',
  N: 'nickname',
  T: 'temp',
  U: 'old',
  A: 'usual',
};

export function mapName(x: Hl7Composite): HumanName | undefined {
  const family = x.value(1, 1);
  const given = [x.value(2), x.value(3)].filter((s): s is string => !!s);
  const use = NAME_USE[x.value(7)?.toUpperCase() ?? ''];
  if (!family && !given.length) return undefined;
  const cjk = CJK.test(family ?? '') || given.some((g) => CJK.test(g));
  if (family && !given.length && (cjk || /\s/.test(family))) {
    // The whole name in one component (common for Chinese names): do not guess the split.
    return compact({ use, text: family });
  }
  const suffix = [x.value(4), x.value(6)].filter((s): s is string => !!s);
  const prefix = x.value(5) ? [x.value(5)!] : [];
  return compact({ use, text: cjk ? `${family ?? ''}${given.join('')}` : undefined, family, given, prefix, suffix });
}

const ADDRESS_USE: Record<string, Address['use']> = {
  H: 'home',
  P: 'home',
  L: 'home',
  B: 'work',
  O: 'work',
  C: 'temp',
  BA: 'billing',
  BI: 'billing',
  OLD: 'old',
};

export function mapAddress(x: Hl7Composite): Address | undefined {
  const street = [x.value(1, 1), x.value(1, 2), x.value(1, 3)].filter(Boolean).join(' ');
  const line = [street, x.value(2)].filter((s): s is string => !!s);
  const typeCode = x.value(7)?.toUpperCase() ?? '';
  const county = x.value(9);
  const tract = x.value(10);
  // Most precise administrative division code present: 12-digit statistical code, else 6-digit GB/T 2260.
  const areaCode = [tract, county]
    .filter((s): s is string => !!s && /^\d{6}(\d{3}|\d{6})?$/.test(s))
    .sort((a, b) => b.length - a.length)[0];
  const district = county && !/^\d+$/.test(county) ? county : undefined;
  const addr: Address = compact({
    extension: areaCode ? [{ url: AREA_CODE_EXTENSION, valueCode: areaCode }] : undefined,
    use: ADDRESS_USE[typeCode],
    type: typeCode === 'M' ? ('postal' as const) : undefined,
    line,
    city: x.value(3),
    district,
    state: x.value(4),
    postalCode: x.value(5),
    country: x.value(6),
  });
  return Object.keys(addr).some((k) => k !== 'use' && k !== 'type') ? addr : undefined;
}

export function mapTelecom(x: Hl7Composite, defaultUse: ContactPoint['use']): ContactPoint | undefined {
  const useCode = x.value(2)?.toUpperCase();
  const equip = x.value(3)?.toUpperCase();
  const email = x.value(4);
  if (email && (useCode === 'NET' || equip === 'INTERNET' || equip === 'X.400' || !x.value(1))) {
    return { system: 'email', value: email, use: useCode === 'WPN' ? 'work' : defaultUse };
  }
  let value = x.value(1) ?? x.value(12);
  if (!value) {
    const local = x.value(7);
    if (!local) return undefined;
    value = [x.value(5) ? `+${x.value(5)}` : '', x.value(6) ? `(${x.value(6)})` : '', local, x.value(8) ? `ext ${x.value(8)}` : '']
      .filter(Boolean)
      .join(' ');
  }
  const system: ContactPoint['system'] = equip === 'FX' ? 'fax' : equip === 'BP' ? 'pager' : 'phone';
  const use: ContactPoint['use'] = equip === 'CP' ? 'mobile' : useCode === 'WPN' ? 'work' : useCode === 'PRN' ? 'home' : defaultUse;
  return { system, value, use };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export function toNumber(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!NUMBER.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
