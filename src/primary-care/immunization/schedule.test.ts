import { describe, expect, it } from 'vitest';
import { addMonths, loadSchedules, vaccinesDue } from './schedule.js';
import { ChildScheduleSchema } from './schedule.js';
import { parseRuleText } from '../chronic/rule-file.js';

const s = loadSchedules();

describe('vaccinesDue (worked examples, rules.md §4)', () => {
  it('a newborn with birth doses given: HepB 2 is upcoming at 1 month', () => {
    const due = vaccinesDue(
      { birthDate: '2025-03-10', conditions: [] },
      [
        { vaccine: 'HepB', date: '2025-03-10' },
        { vaccine: 'BCG', date: '2025-03-11' },
      ],
      s,
      '2025-03-20',
    );
    expect(due.map((d) => `${d.vaccine}${d.dose}:${d.status}`)).toEqual(['HepB2:upcoming']);
  });

  it('a 10-month-old who missed everything after birth gets catch-up doses, interval-respecting', () => {
    const due = vaccinesDue(
      { birthDate: '2024-01-15', conditions: [] },
      [
        { vaccine: 'HepB', date: '2024-01-15' },
        { vaccine: 'BCG', date: '2024-01-15' },
      ],
      s,
      '2024-11-20',
    );
    const byCode = Object.fromEntries(due.map((d) => [d.vaccine, d]));
    expect(byCode['HepB']).toMatchObject({ dose: 2, status: 'overdue', dueDate: '2024-02-15' });
    expect(byCode['IPV']).toMatchObject({ dose: 1, status: 'overdue' });
    expect(byCode['MMR']).toMatchObject({ dose: 1, status: 'overdue', dueDate: '2024-09-15' });
    expect(byCode['MPSV-A']).toMatchObject({ dose: 1, status: 'overdue' });
    expect(byCode['MPSV-A']!.reason).toMatch(/^补种/);
  });

  it('the 2025 schedule gives DTaP at 2 months; the 2021 schedule at 3 months', () => {
    const h = [
      { vaccine: 'HepB', date: '2024-10-01' },
      { vaccine: 'BCG', date: '2024-10-01' },
      { vaccine: 'HepB', date: '2024-11-01' },
    ];
    const in2025 = vaccinesDue({ birthDate: '2024-10-01', conditions: [] }, h, s, '2025-01-05');
    expect(in2025.find((d) => d.vaccine === 'DTaP')).toMatchObject({ dose: 1, dueDate: '2024-12-01', schedule: 'NIP-2025' });
    const in2024 = vaccinesDue({ birthDate: '2024-09-01', conditions: [] }, h, s, '2024-12-05');
    expect(in2024.find((d) => d.vaccine === 'DTaP')).toMatchObject({ dose: 1, dueDate: '2024-12-01', status: 'due', schedule: 'NIP-2021' });
  });

  it('BCG is not caught up after 4 years; minimum interval pushes the next dose', () => {
    const due = vaccinesDue({ birthDate: '2020-01-01', conditions: [] }, [], s, '2024-06-01');
    expect(due.some((d) => d.vaccine === 'BCG')).toBe(false);
    const hep = vaccinesDue({ birthDate: '2020-01-01', conditions: [] }, [{ vaccine: 'HepB', date: '2024-05-20' }], s, '2024-06-01');
    expect(hep.find((d) => d.vaccine === 'HepB')).toMatchObject({ dose: 2, dueDate: '2024-06-17', status: 'upcoming' });
  });

  it('adults: influenza each season at ≥ 60 or with chronic disease; PPSV23 once at 65', () => {
    const old = vaccinesDue({ birthDate: '1955-02-01', conditions: [] }, [{ vaccine: 'IIV', date: '2024-10-10' }], s, '2025-10-15');
    expect(old.map((d) => d.vaccine).sort()).toEqual(['IIV', 'PPSV23']);
    const done = vaccinesDue(
      { birthDate: '1955-02-01', conditions: [] },
      [
        { vaccine: 'IIV', date: '2025-09-20' },
        { vaccine: 'PPSV23', date: '2021-01-01' },
      ],
      s,
      '2025-10-15',
    );
    expect(done).toEqual([]);
    const htn = vaccinesDue({ birthDate: '1980-02-01', conditions: ['I10'] }, [], s, '2026-01-15');
    expect(htn.map((d) => d.vaccine)).toEqual(['IIV']);
    const summer = vaccinesDue({ birthDate: '1980-02-01', conditions: ['I10'] }, [], s, '2026-06-15');
    expect(summer).toEqual([]);
    const copd = vaccinesDue({ birthDate: '1980-02-01', conditions: ['J44.9'] }, [], s, '2026-06-15');
    expect(copd.map((d) => d.vaccine)).toEqual(['PPSV23']);
  });

  it('month arithmetic clamps to the month end', () => {
    expect(addMonths('2024-01-31', 1)).toBe('2024-02-29');
  });

  it('schedule files with unknown fields refuse to load, naming the line', () => {
    const text =
      '{\n "version": "x",\n "title": "t",\n "source": "s",\n "effectiveFrom": "2021-01-01",\n "overdueAfterDays": 30,\n "upcomingWithinDays": 30,\n "vaccines": {},\n "doses": [],\n "extra": 1\n}';
    expect(() => parseRuleText('nip-x.json', text, ChildScheduleSchema)).toThrow('nip-x.json:10: unknown field "extra"');
  });
});
