/** Display helpers shared by the modules: FHIR names, codes, dates, addresses. */
import { t } from '../i18n/i18n.js';
import type { Address, CodeableConcept, Coding, HumanName, Period, Quantity } from '@medplum/fhirtypes';

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

export function hasCjk(text: string | undefined): boolean {
  return !!text && CJK.test(text);
}

/** A person's name: `text` if given, else family+given (Chinese order, no space) or given family. */
export function formatHumanName(name: HumanName | undefined): string {
  if (!name) return '';
  if (name.text?.trim()) return name.text.trim();
  const family = name.family?.trim() ?? '';
  const given = (name.given ?? []).map((part) => part.trim()).filter(Boolean);
  if (hasCjk(family) || given.some(hasCjk)) return `${family}${given.join('')}`;
  return [...given, family].filter(Boolean).join(' ');
}

/** The official (or first usable) name from a list. */
export function preferredName(names: HumanName[] | undefined): HumanName | undefined {
  if (!names?.length) return undefined;
  return names.find((n) => n.use === 'official') ?? names.find((n) => n.use !== 'old' && n.use !== 'maiden') ?? names[0];
}

export function codingLabel(coding: Coding | undefined): string {
  return coding?.display ?? coding?.code ?? '';
}

/** Text of a CodeableConcept: its text, else the first display, else the first code. */
export function conceptText(concept: CodeableConcept | undefined): string {
  if (!concept) return '';
  if (concept.text) return concept.text;
  const coding = concept.coding?.find((c) => c.display) ?? concept.coding?.[0];
  return codingLabel(coding);
}

export function conceptCode(concept: CodeableConcept | undefined): string | undefined {
  return concept?.coding?.find((c) => c.code)?.code;
}

/** True when any coding of the concept has one of the codes (optionally in a given system). */
export function hasCode(concept: CodeableConcept | undefined, codes: readonly string[], system?: string): boolean {
  return !!concept?.coding?.some((c) => !!c.code && codes.includes(c.code) && (!system || !c.system || c.system === system));
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Formats a FHIR date or dateTime. Plain dates (YYYY, YYYY-MM, YYYY-MM-DD) are shown as written,
 * so no time zone shifts them; dateTimes are shown in the browser's local time.
 */
export function formatDate(value: string | undefined, withTime = false): string {
  if (!value) return '';
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return withTime ? `${day} ${pad(date.getHours())}:${pad(date.getMinutes())}` : day;
}

export function formatDateTime(value: string | undefined): string {
  return formatDate(value, true);
}

export function formatPeriod(period: Period | undefined, withTime = true): string {
  if (!period) return '';
  const start = formatDate(period.start, withTime);
  const end = formatDate(period.end, withTime);
  if (start && end) {
    // Same day: show the day once and both times.
    if (withTime && start.slice(0, 10) === end.slice(0, 10)) return `${start} – ${end.slice(11)}`;
    return `${start} – ${end}`;
  }
  return start || (end ? `– ${end}` : '');
}

/** Milliseconds since the epoch for sorting; NaN-safe (unknown dates sort as 0). */
export function timeOf(value: string | undefined): number {
  if (!value) return 0;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

/** Age in whole years (or months for infants) at `at` (default now), as display text. */
export function formatAge(birthDate: string | undefined, at: Date = new Date()): string {
  if (!birthDate) return '';
  const [y, m = 1, d = 1] = birthDate.slice(0, 10).split('-').map(Number);
  if (!y) return '';
  let months = (at.getFullYear() - y) * 12 + (at.getMonth() + 1 - m);
  if (at.getDate() < d) months -= 1;
  if (months < 0) return '';
  if (months < 12) return t('format.ageMonths', '{n}个月', { n: months });
  return t('format.ageYears', '{n}岁', { n: Math.floor(months / 12) });
}

export function genderLabel(gender: string | undefined): string {
  switch (gender) {
    case 'male':
      return t('gender.male', '男');
    case 'female':
      return t('gender.female', '女');
    case 'other':
      return t('gender.other', '其他');
    case 'unknown':
      return t('gender.unknown', '未知');
    default:
      return '';
  }
}

/**
 * Masks a resident ID number for lists: keeps the 6-digit area code and the last 4 characters
 * (110105********002X). Short values are masked in the middle only.
 */
export function maskIdNumber(value: string | undefined): string {
  if (!value) return '';
  if (value.length <= 8) return value.length <= 2 ? '*'.repeat(value.length) : `${value[0]}${'*'.repeat(value.length - 2)}${value.at(-1)}`;
  return `${value.slice(0, 6)}${'*'.repeat(value.length - 10)}${value.slice(-4)}`;
}

/** One-line address: its text, else parts in Chinese order (no separators) or Western order. */
export function formatAddress(address: Address | undefined): string {
  if (!address) return '';
  if (address.text?.trim()) return address.text.trim();
  const lines = address.line ?? [];
  const chinese = [address.state, address.city, address.district, ...lines].some(hasCjk);
  if (chinese) {
    // Municipalities repeat the province as the city (北京市北京市): show it once.
    const city = address.city === address.state ? undefined : address.city;
    return [address.state, city, address.district, ...lines].filter(Boolean).join('');
  }
  const cityLine = [address.city, [address.state, address.postalCode].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  return [...lines, cityLine, address.country].filter(Boolean).join(', ');
}

/** The home (or first current) address. */
export function preferredAddress(addresses: Address[] | undefined): Address | undefined {
  if (!addresses?.length) return undefined;
  return addresses.find((a) => a.use === 'home') ?? addresses.find((a) => a.use !== 'old') ?? addresses[0];
}

export function formatQuantity(quantity: Quantity | undefined, digits?: number): string {
  if (quantity?.value === undefined) return '';
  const value = digits === undefined ? String(quantity.value) : quantity.value.toFixed(digits);
  const unit = quantity.unit ?? quantity.code ?? '';
  return `${quantity.comparator ?? ''}${value}${unit ? ` ${unit}` : ''}`;
}
