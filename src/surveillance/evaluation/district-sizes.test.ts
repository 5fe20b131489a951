/**
 * The district-size evaluation's pure parts: the simulation is reproducible and sane, and the
 * scoring counts an outbreak as found only by an alert carrying evidence from its streets in
 * its window, on the later of the trigger day and that evidence's day.
 */
import { describe, expect, it } from 'vitest';
import {
  DISTRICT_SIZES,
  districtNeighbours,
  episodes,
  matchDay,
  placeboOutbreaks,
  placeMatches,
  poolScores,
  scoreAlerts,
  simulateDistrictCounts,
  SIMULATED_SIGNALS,
  type ScoredAlert,
  type SimulatedOutbreak,
} from './district-sizes.js';

const outbreak = (over: Partial<SimulatedOutbreak> = {}): SimulatedOutbreak => ({
  id: 'o1',
  kind: 'gastrointestinal',
  streets: ['339902001000'],
  firstOnset: '2025-03-10',
  lastOnset: '2025-03-16',
  cases: 30,
  // Cases it added: diarrhoea on the 10th and 12th, a lab result on the 13th, all in street 001.
  added: [
    { signal: 'syndrome:diarrhoea', street: '339902001000', day: '2025-03-10' },
    { signal: 'syndrome:diarrhoea', street: '339902001000', day: '2025-03-12' },
    { signal: 'lab:norovirus', street: '339902001000', day: '2025-03-13' },
  ],
  ...over,
});

type Ev = [area: string, day: string, signal: string, windowDays?: number];
const alert = (id: number, triggerDay: string, evidence: Ev[], level = 'red', score = 5): ScoredAlert => ({
  id,
  areas: [...new Set(evidence.map(([a]) => a))],
  evidence: evidence.map(([area, day, signal, windowDays]) => ({ area, day, signals: [signal], windowDays: windowDays ?? 1 })),
  triggerDay,
  level,
  score,
});

describe('simulateDistrictCounts', () => {
  it('is reproducible per seed, with counts for every signal and street and two outbreaks per street-year', () => {
    const small = DISTRICT_SIZES[0]!;
    const a = simulateDistrictCounts(small, 3, { historyDays: 60, evalDays: 120 });
    const b = simulateDistrictCounts(small, 3, { historyDays: 60, evalDays: 120 });
    expect(a.outbreaks).toEqual(b.outbreaks);
    expect(a.counts.get('syndrome:diarrhoea')).toEqual(b.counts.get('syndrome:diarrhoea'));
    expect([...a.counts.keys()]).toEqual(SIMULATED_SIGNALS.map((s) => s.key));
    expect(a.days).toHaveLength(180);
    expect(a.outbreaks).toHaveLength(Math.round((2 * small.streets * 120) / 365));
    for (const byStreet of a.counts.values()) {
      expect([...byStreet.keys()]).toEqual(a.streets);
      for (const series of byStreet.values()) expect(series.every((v) => Number.isInteger(v) && v >= 0)).toBe(true);
    }
    for (const o of a.outbreaks) {
      expect(o.added.every((c) => o.streets.includes(c.street) && c.day >= o.firstOnset)).toBe(true);
      expect(o.firstOnset >= a.days[a.evalFrom]!).toBe(true);
      expect(o.lastOnset <= a.days.at(-1)!).toBe(true);
      expect(o.streets.every((s) => a.streets.includes(s))).toBe(true);
    }
    // School absences only on weekdays.
    const school = a.counts.get('school:illness_absence')!.get(a.streets[0]!)!;
    a.days.forEach((d, i) => {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      if (wd === 0 || wd === 6) expect(school[i]).toBe(0);
    });
    expect(simulateDistrictCounts(small, 4, { historyDays: 60, evalDays: 120 }).outbreaks).not.toEqual(a.outbreaks);
  });
});

describe('scoreAlerts', () => {
  it('credits an alert with an outbreak only through alarms on counts the outbreak added', () => {
    const o = outbreak();
    // Opened in another street on the 8th, joined on the 12th by the diarrhoea alarm of street 001.
    const joined = alert(1, '2025-03-08', [
      ['339902002000', '2025-03-08', 'syndrome:diarrhoea'],
      ['339902001000', '2025-03-12', 'syndrome:diarrhoea'],
    ]);
    expect(matchDay(joined, o)).toBe('2025-03-12');
    // The right street and signal on a day without outbreak cases: chance, not the outbreak.
    expect(matchDay(alert(2, '2025-03-11', [['339902001000', '2025-03-11', 'syndrome:diarrhoea']]), o)).toBeNull();
    // The right street and day, another signal: no.
    expect(matchDay(alert(3, '2025-03-12', [['339902001000', '2025-03-12', 'ili']]), o)).toBeNull();
    // A 7-day block (CIDARS) ending on the 15th includes the lab case of the 13th.
    expect(matchDay(alert(4, '2025-03-15', [['339902001000', '2025-03-15', 'lab:norovirus', 7]]), o)).toBe('2025-03-15');
    expect(matchDay(alert(5, '2025-03-21', [['339902001000', '2025-03-21', 'lab:norovirus', 7]]), o)).toBeNull();

    const s = scoreAlerts(
      [o, outbreak({ id: 'o2', streets: ['339902004000'], firstOnset: '2025-06-01', lastOnset: '2025-06-05', added: [] })],
      [
        joined,
        alert(2, '2025-03-11', [['339902001000', '2025-03-11', 'syndrome:diarrhoea']], 'orange', 2),
        alert(6, '2025-03-10', [['339902001000', '2025-03-10', 'syndrome:diarrhoea']], 'red', 9),
      ],
      70,
    );
    expect(s.detected).toBe(1);
    expect(s.sensitivity).toBe(0.5);
    expect(s.medianDelayDays).toBe(0); // alert 6 on the day of the first onset
    expect(s.within3Days).toBe(0.5);
    expect(s.within1Day).toBe(0.5);
    expect(s.trueAlerts).toBe(2);
    expect(s.ppv).toBeCloseTo(2 / 3, 12);
    expect(s.alertsPerWeek).toBeCloseTo(0.3, 12);
    expect(s.ppvByLevel).toEqual({ red: { alerts: 2, ppv: 1 }, orange: { alerts: 1, ppv: 0 } });
    // Top 2 by score: alert 6 (9) and alert 1 (5), both true.
    expect(s.precisionAtK).toBe(1);
  });

  it('credits an alert only where its place matches the outbreak’s: an outbreak street, nothing beyond two streets from it', () => {
    // Ten streets on a ring: 001 borders 010 and 002, and so on.
    const n = districtNeighbours(simulateDistrictCounts(DISTRICT_SIZES[1]!, 1, { historyDays: 30, evalDays: 30 }));
    const st = (i: number) => `339902${String(i).padStart(3, '0')}000`;
    expect([...n.get(st(1))!].sort()).toEqual([st(2), st(10)]);
    const o = outbreak(); // street 001
    const withPlace = (areas: string[]): ScoredAlert => ({
      ...alert(1, '2025-03-10', [[st(1), '2025-03-10', 'syndrome:diarrhoea']]),
      areas,
    });
    // Its own street; opened next door and naming that street's other neighbour too: found.
    expect(placeMatches(withPlace([st(1)]), o, n)).toBe(true);
    expect(placeMatches(withPlace([st(2), st(1), st(3)]), o, n)).toBe(true);
    expect(matchDay(withPlace([st(2), st(1), st(3)]), o, n)).toBe('2025-03-10');
    // A place reaching three streets away, or the district: its alarm in 001 does not make it the outbreak's alert.
    expect(placeMatches(withPlace([st(1), st(4)]), o, n)).toBe(false);
    const district = withPlace(Array.from({ length: 10 }, (_, i) => st(i + 1)));
    expect(matchDay(district, o, n)).toBeNull();
    expect(matchDay(district, o, null)).toBe('2025-03-10'); // evidence-only scoring (before 2026-12) credited it
    // A place that names no outbreak street never matches.
    expect(placeMatches(withPlace([st(2)]), o, n)).toBe(false);
    const s = scoreAlerts([o], [district, withPlace([st(1)])], 7, n);
    expect(s).toMatchObject({ detected: 1, trueAlerts: 1, ppv: 0.5 });
  });

  it("pools districts (seeds) without letting one district's alerts find another's outbreaks", () => {
    // Two seeds simulate the same calendar and street codes: seed A's alert on the day and street
    // of seed B's outbreak is not B's detection (before 2026-12 the pooled lists were cross-matched).
    const o = outbreak();
    const a = alert(1, '2025-03-10', [['339902001000', '2025-03-10', 'syndrome:diarrhoea']]);
    const s = poolScores([
      { outbreaks: [], alerts: [a], days: 365 },
      { outbreaks: [o], alerts: [], days: 365 },
    ]);
    expect(s).toMatchObject({ outbreaks: 1, detected: 0, alerts: 1, trueAlerts: 0, medianDelayDays: null });
    const same = poolScores([
      { outbreaks: [o], alerts: [a], days: 365 },
      { outbreaks: [], alerts: [], days: 365 },
    ]);
    expect(same).toMatchObject({ outbreaks: 1, detected: 1, alerts: 1, trueAlerts: 1, medianDelayDays: 0 });
    expect(same.alertsPerWeek).toBeCloseTo(7 / 730, 12);
  });

  it('keeps placebo outbreaks off the streets where the outbreak was', () => {
    // Four streets, an outbreak in A, B and C: shifted by two it lands on C, D and A — only D is quiet.
    const p = placeboOutbreaks({
      streets: ['A', 'B', 'C', 'D'],
      outbreaks: [
        outbreak({
          streets: ['A', 'B', 'C'],
          added: [
            { signal: 'ili', street: 'A', day: '2025-03-11' },
            { signal: 'ili', street: 'B', day: '2025-03-12' },
          ],
        }),
      ],
    });
    expect(p[0]!.streets).toEqual(['D']);
    expect(p[0]!.added).toEqual([{ signal: 'ili', street: 'D', day: '2025-03-12' }]);
  });

  it('moves placebo outbreaks to other streets on the same days', () => {
    const streets = ['A', 'B', 'C', 'D'];
    const p = placeboOutbreaks({
      streets,
      outbreaks: [
        outbreak({ streets: ['A', 'B'], added: [{ signal: 'ili', street: 'B', day: '2025-03-11' }] }),
        outbreak({ id: 'o2', streets: ['D'], added: [] }),
      ],
    });
    expect(p.map((o) => o.streets)).toEqual([['C', 'D'], ['B']]);
    expect(p[0]!.added).toEqual([{ signal: 'ili', street: 'D', day: '2025-03-11' }]);
    expect(p[0]!.firstOnset).toBe('2025-03-10');
  });

  it('groups single-source alarm days of a street into episodes', () => {
    const at = (areaCode: string, day: string) => ({ areaCode, day, signals: ['x'], windowDays: 1 });
    const e = episodes([at('A', '2025-01-05'), at('A', '2025-01-01'), at('A', '2025-01-20'), at('B', '2025-01-05')]);
    expect(e.map((x) => `${x.areas[0]}@${x.triggerDay}:${x.evidence.length}`)).toEqual([
      'A@2025-01-01:2',
      'A@2025-01-20:1',
      'B@2025-01-05:1',
    ]);
  });
});
