import { describe, expect, it } from 'vitest';
import { addDays, ageOn, chinaDateOf, dayRange, daysBetween, isIsoDate, nowInChina, todayInChina } from './dates.js';

describe('dates', () => {
  it('adds days across months, leap days and years', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-02-29', 1)).toBe('2024-03-01');
    expect(addDays('2023-12-31', 1)).toBe('2024-01-01');
    expect(addDays('2024-01-01', -1)).toBe('2023-12-31');
    expect(daysBetween('2024-01-01', '2025-01-01')).toBe(366);
    expect(dayRange('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
  });
  it('counts age in whole years, birthdays included', () => {
    expect(ageOn('1960-05-10', '2025-05-09')).toBe(64);
    expect(ageOn('1960-05-10', '2025-05-10')).toBe(65);
    expect(ageOn('1960', '2025-01-01')).toBe(65);
  });
  it('takes China time (UTC+8) for today', () => {
    const lateUtc = Date.parse('2026-01-01T17:30:00Z');
    expect(todayInChina(lateUtc)).toBe('2026-01-02');
    expect(nowInChina(lateUtc)).toBe('2026-01-02T01:30:00+08:00');
    expect(chinaDateOf('2026-01-01T17:30:00Z')).toBe('2026-01-02');
  });
  it('tells real dates from look-alikes', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2023-02-29')).toBe(false);
    expect(isIsoDate('2024-2-29')).toBe(false);
  });
});
