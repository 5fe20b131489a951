/**
 * Resident ID number (公民身份号码, GB 11643-1999): 6-digit address code, 8-digit birth date,
 * 3-digit sequence (odd = male, even = female) and a check character.
 * The address code is not checked against today's division list: it is the code in force at issue.
 */

/** Identifier system URI Yifang uses for the resident ID number on Patient.identifier. */
export const RESIDENT_ID_SYSTEM = 'urn:oid:1.2.156.112606.1.2.1';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS = '10X98765432';

export function idNumberCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

export interface ParsedIdNumber {
  addressCode: string;
  birthDate: string; // YYYY-MM-DD
  sex: 'male' | 'female';
}

/** Returns the parsed number, or a human-readable reason why it is malformed. */
export function parseIdNumber(raw: string, today: Date = new Date()): { ok: true; value: ParsedIdNumber } | { ok: false; reason: string } {
  const value = raw.trim().toUpperCase();
  if (!/^\d{17}[\dX]$/.test(value)) {
    return { ok: false, reason: '公民身份号码必须是18位：17位数字加1位校验码（数字或X） / must be 17 digits followed by a digit or X' };
  }
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1880 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return { ok: false, reason: `公民身份号码中的出生日期无效 / birth date ${value.slice(6, 14)} is not a valid date` };
  }
  if (date.getTime() > today.getTime()) {
    return { ok: false, reason: `公民身份号码中的出生日期在未来 / birth date ${value.slice(6, 14)} is in the future` };
  }
  const expected = idNumberCheckChar(value.slice(0, 17));
  if (value[17] !== expected) {
    return { ok: false, reason: `公民身份号码校验码错误 / check character is ${value[17]}, expected ${expected}` };
  }
  return {
    ok: true,
    value: {
      addressCode: value.slice(0, 6),
      birthDate: `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`,
      sex: Number(value[16]) % 2 === 1 ? 'male' : 'female',
    },
  };
}

/** Builds a valid number from its parts (used by the simulator and tests). */
export function makeIdNumber(addressCode: string, birthDate: string, sequence: number): string {
  const first17 = addressCode + birthDate.replace(/-/g, '') + String(sequence).padStart(3, '0');
  return first17 + idNumberCheckChar(first17);
}
