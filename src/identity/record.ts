/**
 * The identity-relevant view of a Patient, normalised for matching: name as hanzi and toneless
 * pinyin (so traditional forms, homophones and pinyin spellings meet), birth date, sex, phone,
 * address and a valid resident ID number. Plus the blocking keys that find candidates.
 */
import type { Patient } from '@medplum/fhirtypes';
import { AREA_CODE_EXTENSION } from '../shared/uris.js';
import { parseIdNumber, RESIDENT_ID_SYSTEM } from '../shared/id-number.js';
import { COMPOUND_SURNAMES, PINYIN_GROUPS } from './pinyin-table.js';

const PINYIN = new Map<string, string>();
for (const group of PINYIN_GROUPS.split(/\s+/).filter(Boolean)) {
  const [syllable, chars] = group.split(':') as [string, string];
  for (const c of chars) PINYIN.set(c, syllable);
}

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

/** Toneless pinyin of each character (a character outside the table stands for itself). */
export function pinyinOf(text: string): string[] {
  return [...text].filter((c) => HAN.test(c)).map((c) => PINYIN.get(c) ?? c);
}

export function isHanzi(text: string): boolean {
  return HAN.test(text);
}

/** Splits a full hanzi name into surname and given name, knowing the compound surnames. */
export function splitName(full: string): { family: string; given: string } {
  const chars = [...full.replace(/\s+/g, '')];
  const two = chars.slice(0, 2).join('');
  if (chars.length >= 3 && COMPOUND_SURNAMES[two]) return { family: two, given: chars.slice(2).join('') };
  return { family: chars[0] ?? '', given: chars.slice(1).join('') };
}

function familyPinyin(family: string): string {
  return COMPOUND_SURNAMES[family] ?? pinyinOf(family).join('');
}

export interface IdentityRecord {
  patientId: string;
  /** Managing organisation or the facility of the MRN. */
  facility: string;
  /** A resident ID number that passes the GB 11643 check. */
  idNumber?: string;
  /** Any ID number given (also invalid ones: a keying slip still says something). */
  idRaw?: string;
  /** Name as written (hanzi without spaces, or lower-case Latin). */
  name: string;
  /** Toneless pinyin of the whole name, syllables joined ('zhangwei'). */
  namePinyin: string;
  familyPinyin: string;
  givenPinyin: string;
  birthDate?: string;
  sex?: string;
  phone?: string;
  /** Address line without spaces/punctuation. */
  address?: string;
  areaCode?: string;
}

/** Administrative divisions a sender may or may not write before the house part (省, 市, 区/县, 街道/镇/乡). */
const DIVISION_PREFIX = /^[\u4e00-\u9fa5]{1,10}?(?:省|自治区|特别行政区|市|自治州|地区|盟|区|县|旗|街道|镇|乡)/;

/**
 * The house part of an address, comparable across senders: spaces and punctuation out, and the
 * leading administrative divisions ("浙江省杭州市西湖区") dropped, as one hospital writes them and
 * another does not. A prefix is dropped only while a house number remains after it, and not when
 * the number follows at once (a compound named 一区 and its building number).
 */
export function houseAddress(text: string): string {
  let s = text.replace(/[\s,，。·-]/g, '');
  for (let i = 0; i < 5; i++) {
    const m = DIVISION_PREFIX.exec(s);
    const rest = m ? s.slice(m[0].length) : '';
    // "翠苑一区12幢" is a compound and its building, not a district: a number right after ends the divisions.
    if (!m || /^\d/.test(rest) || !/\d/.test(rest)) break;
    s = s.slice(m[0].length);
  }
  return s;
}

export function toIdentityRecord(p: Patient): IdentityRecord {
  const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  let family = name?.family ?? '';
  let given = (name?.given ?? []).join('');
  const text = name?.text ?? `${family}${given}`;
  if (!family && text)
    ({ family, given } = isHanzi(text)
      ? splitName(text)
      : { family: text.split(/\s+/)[0] ?? '', given: text.split(/\s+/).slice(1).join('') });
  let rec: Pick<IdentityRecord, 'name' | 'namePinyin' | 'familyPinyin' | 'givenPinyin'>;
  // A newborn registered as "<mother>之子/之女" has no name of its own yet: leave the name out.
  if (/之[子女]$|^婴儿?$|^新生儿/.test(`${family}${given}`)) {
    rec = { name: '', namePinyin: '', familyPinyin: '', givenPinyin: '' };
  } else if (isHanzi(family + given)) {
    const fp = familyPinyin(family);
    const gp = pinyinOf(given).join('');
    rec = { name: (family + given).replace(/\s+/g, ''), namePinyin: fp + gp, familyPinyin: fp, givenPinyin: gp };
  } else {
    const fp = family.toLowerCase().replace(/[^a-z]/g, '');
    const gp = given.toLowerCase().replace(/[^a-z]/g, '');
    rec = { name: `${fp} ${gp}`.trim(), namePinyin: fp + gp, familyPinyin: fp, givenPinyin: gp };
  }
  const ids = (p.identifier ?? []).filter(
    (i) => i.system === RESIDENT_ID_SYSTEM || i.type?.coding?.some((c) => c.code === 'NI' || c.code === 'NNCHN'),
  );
  let idNumber: string | undefined;
  let idRaw: string | undefined;
  for (const i of ids) {
    const v = i.value?.trim().toUpperCase();
    if (!v) continue;
    idRaw ??= v;
    if (parseIdNumber(v).ok) {
      idNumber = v;
      idRaw = v;
      break;
    }
  }
  const phone = p.telecom
    ?.find((t) => t.system === 'phone' && t.value)
    ?.value?.replace(/\D/g, '')
    .replace(/^86(?=1\d{10}$)/, '');
  const addr = p.address?.find((a) => a.use === 'home') ?? p.address?.[0];
  // The house part (road + number + building/unit/room, or group + number in villages): lines
  // without digits (街道/社区 names) are ordered differently by different senders, so they are left out.
  const lines = addr?.line?.length ? addr.line : addr?.text ? [addr.text] : [];
  const addressText = lines.filter((l) => /\d/.test(l)).join('') || lines.join('');
  const areaCode = addr?.extension?.find((e) => e.url === AREA_CODE_EXTENSION)?.valueString ?? addr?.district;
  const mrn = p.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'MR'));
  const facility = p.managingOrganization?.reference?.replace(/^Organization\//, '') ?? mrn?.system?.split('/').pop() ?? '';
  return {
    patientId: p.id ?? '',
    facility,
    ...(idNumber ? { idNumber } : {}),
    ...(idRaw ? { idRaw } : {}),
    ...rec,
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.gender ? { sex: p.gender } : {}),
    ...(phone ? { phone } : {}),
    ...(addressText ? { address: houseAddress(addressText) } : {}),
    ...(areaCode ? { areaCode } : {}),
  };
}

/**
 * Blocking keys: two records are compared only when they share one. Chosen so that each kind of
 * error seen in practice leaves at least one key intact: ID number; phone; birth date with day
 * and month in either order; name pinyin + birth year (homophones, traditional forms, pinyin
 * spellings, day/month swaps); surname pinyin + birth year and month + given-name initial. The birth-date
 * key also carries the surname's pinyin initial: birth date alone puts ~60 people per key in a
 * million, which made matching at that size fetch and score far too many candidates.
 */
export function blockingKeys(r: IdentityRecord): string[] {
  const keys: string[] = [];
  if (r.idNumber) keys.push(`id:${r.idNumber}`);
  if (r.phone) keys.push(`ph:${r.phone}`);
  const m = r.birthDate ? /^(\d{4})-(\d{2})-(\d{2})/.exec(r.birthDate) : null;
  if (m) {
    const [a, b] = [m[2]!, m[3]!].sort();
    // with the surname's initial, so a block holds a handful of people even among millions
    keys.push(`bd:${m[1]}-${a}-${b}:${r.familyPinyin.slice(0, 1)}`);
    // Infants are often registered before they have a name ("<mother>之子"): for them the birth
    // date alone is a key (few births a day, so the block stays small).
    if (Date.now() - Date.parse(r.birthDate!) < 2 * 365.25 * 86_400_000) keys.push(`bi:${r.birthDate}`);
    if (r.namePinyin) keys.push(`nb:${r.namePinyin}:${m[1]}`);
    if (r.familyPinyin) keys.push(`sy:${r.familyPinyin}:${m[1]}-${m[2]}:${r.givenPinyin.slice(0, 1)}`);
  } else if (r.namePinyin) keys.push(`nm:${r.namePinyin}`);
  return keys;
}
