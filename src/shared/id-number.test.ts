import { describe, expect, it } from 'vitest';
import { makeIdNumber, parseIdNumber } from './id-number.js';

describe('resident ID number (GB 11643)', () => {
  it('accepts the published example', () => {
    const r = parseIdNumber('11010519491231002X');
    expect(r).toEqual({ ok: true, value: { addressCode: '110105', birthDate: '1949-12-31', sex: 'female' } });
  });
  it('rejects a wrong check character', () => {
    const r = parseIdNumber('110105194912310021');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/expected X/);
  });
  it('rejects an impossible birth date', () => {
    const r = parseIdNumber(makeIdNumber('110105', '1990-02-30'.replace('02-30', '02-28'), 12).slice(0, 10) + '0230' + '0121');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/birth date/);
  });
  it('rejects wrong length and letters', () => {
    expect(parseIdNumber('1101051949123100').ok).toBe(false);
    expect(parseIdNumber('11010519491231002Y').ok).toBe(false);
  });
  it('round-trips numbers it builds', () => {
    const id = makeIdNumber('999901', '2010-07-15', 123);
    const r = parseIdNumber(id);
    expect(r.ok && r.value.sex).toBe('male');
  });
});
