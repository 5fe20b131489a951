/** GS1 DataMatrix element strings (pure): the forms a scanner sends, and every bad input named. */
import { describe, expect, it } from 'vitest';
import { gs1CheckDigit, gs1Date, parseGs1 } from './gs1.js';

const GS = '\x1d';
const ok = (s: string) => {
  const r = parseGs1(s);
  if (!r.ok) throw new Error(r.problem);
  return r.code;
};
const problem = (s: string) => {
  const r = parseGs1(s);
  expect(r.ok, JSON.stringify(r)).toBe(false);
  return r.ok ? '' : r.problem;
};

describe('GS1 element strings', () => {
  it('computes the GTIN check digit', () => {
    expect(gs1CheckDigit('0690123456789')).toBe(2);
    expect(gs1CheckDigit('1690600012345')).toBe(3);
  });

  it('reads the raw scanner form with GS separators, the ]d2 prefix and a leading FNC1', () => {
    const want = { gtin: '06901234567892', expiry: '2027-03-31', lot: 'A20240315', serial: 'SN000123' };
    expect(ok(`0106901234567892172703311${'0'}A20240315${GS}21SN000123`)).toMatchObject(want);
    expect(ok(`]d2${GS}01069012345678921727033110A20240315${GS}21SN000123\r\n`)).toMatchObject(want);
    // The lot last: ended by the end of the code, no separator.
    expect(ok(`01069012345678921727033121SN000123${GS}10A20240315`)).toMatchObject(want);
  });

  it('reads the human-readable form with the AIs in parentheses', () => {
    expect(ok('(01)16906000123453(17)260600(10)B-2025/07(21)9876543210')).toEqual({
      gtin: '16906000123453',
      expiry: '2026-06-30',
      lot: 'B-2025/07',
      serial: '9876543210',
      elements: { '01': '16906000123453', '17': '260600', '10': 'B-2025/07', '21': '9876543210' },
    });
  });

  it('reads day 00 as the last day of the month, leap years included', () => {
    expect(gs1Date('280200')).toEqual({ date: '2028-02-29' });
    expect(gs1Date('270200')).toEqual({ date: '2027-02-28' });
    expect(gs1Date('271231')).toEqual({ date: '2027-12-31' });
  });

  it('names the problem of a bad code', () => {
    expect(problem('')).toMatch(/empty/);
    expect(problem('0106901234567891172703311' + '0A1')).toMatch(/GTIN 06901234567891 has a bad check digit: 1, expected 2/);
    expect(problem('01069012345678')).toMatch(/\(01\) needs 14 characters/);
    expect(problem('0106901234567892171303')).toMatch(/\(17\) needs 6 characters/);
    expect(problem('01069012345678921727133110A1')).toMatch(/month 13/);
    expect(problem('0106901234567892' + '17270230' + '10A1')).toMatch(/day 30 in '270230' is past the end of the month \(28\)/);
    expect(problem('(01)06901234567892(99)X')).toMatch(/unknown application identifier \(99\)/);
    expect(problem('010690123456789299X')).toMatch(/unknown application identifier at position 17/);
    expect(problem('10A1')).toMatch(/no GTIN/);
    expect(problem(`0106901234567892${GS}10${'A'.repeat(25)}`)).toMatch(/more than 20: a separator \(GS\) is missing/);
    expect(problem('(01)06901234567892(10)批号1')).toMatch(/character outside GS1's set/);
    expect(problem('(01)06901234567892(10)A1(10)A2')).toMatch(/appears twice/);
    expect(problem('01O6901234567892')).toMatch(/must be digits/);
    expect(problem('(01)06901234567892 (10)A1'.replace(' ', 'x'))).toMatch(/must be digits|needs 14/);
  });
});
