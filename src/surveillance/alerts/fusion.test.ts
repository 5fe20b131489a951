import { describe, expect, it } from 'vitest';
import { loadSurveillanceConfig, type FusionConfig, type SignalConfig } from '../config.js';
import { dayRange } from '../../shared/dates.js';
import { alarmsFromVerdict, judgeSeries, type DetectionAlarm } from './detect.js';
import {
  assessEvidence,
  commonGroups,
  eventConfigOf,
  fitsGroups,
  jointPicture,
  loadEventConfig,
  parseEventConfig,
  relatedSignals,
  signalGroups,
} from './fusion.js';
import { fisherCombine, truncatedProductP } from './stats.js';

const cfg = loadSurveillanceConfig();
const fusion: FusionConfig = cfg.fusion;

const row = (over: Partial<DetectionAlarm>): DetectionAlarm => ({
  signal: 'syndrome:diarrhoea',
  source: 'clinic-syndrome',
  areaCode: '339902001000',
  day: '2025-05-10',
  method: 'earsC',
  observed: 4,
  threshold: 3,
  expected: 1,
  pValue: 0.01,
  fixed: false,
  ...over,
});

/** One class meeting the school absence rule (school:class_cluster, a fixed-threshold signal). */
const classCluster = () =>
  row({ signal: 'school:class_cluster', source: 'school', method: 'cidarsFixed', observed: 1, threshold: 1, pValue: 0.018 });

describe('truncated product method', () => {
  it('is the p itself for one test, and matches the closed form for two kept of two', () => {
    expect(truncatedProductP([0.03], 1, 0.05)).toBeCloseTo(0.03, 12);
    expect(truncatedProductP([0.2], 6, 0.05)).toBe(1); // nothing at or below the truncation
    const [p1, p2, tau] = [0.01, 0.002, 0.05];
    const w = p1 * p2;
    // L = 2: k = 1 (w ≤ τ) gives 2(1−τ)w; k = 2 (w ≤ τ²) gives w(1 + 2 ln τ − ln w).
    const closed = 2 * (1 - tau) * w + w * (1 + 2 * Math.log(tau) - Math.log(w));
    expect(truncatedProductP([p1, p2], 2, tau)).toBeCloseTo(closed, 15);
  });

  it('weighs selected small p-values less than Fisher on them alone does', () => {
    expect(truncatedProductP([0.01, 0.01], 6, 0.05)).toBeGreaterThan(fisherCombine([0.01, 0.01]));
  });
});

describe('assessEvidence', () => {
  it('ignores weak evidence in the alarm rules', () => {
    const weakOnly = [row({ weak: true, pValue: 1e-6 }), row({ source: 'pharmacy', signal: 'pharmacy:cold', weak: true, pValue: 0.02 })];
    const noJoint = { ...fusion, levels: fusion.levels.filter((l) => !l.when.includeWeak) };
    expect(assessEvidence(noJoint, weakOnly)).toBeNull();
  });

  it('opens on joint weak evidence from two sources within the joint window, not from one source or stale days', () => {
    const rule = fusion.levels.find((l) => l.when.includeWeak)!;
    expect(rule.when.minSources).toBe(2);
    const clinic = row({ weak: true, pValue: 1e-6, day: '2025-05-09' });
    const pharmacy = row({ source: 'pharmacy', signal: 'pharmacy:antipyretic', weak: true, pValue: 0.004, day: '2025-05-10' });
    const a = assessEvidence(fusion, [clinic, pharmacy], '2025-05-10');
    expect(a).toMatchObject({ level: rule.level, sources: ['clinic-syndrome', 'pharmacy'], weak: true });
    expect(a!.jointP).toBeLessThanOrEqual(rule.when.maxJointP!);
    // One source alone (even with two signals) is never a joint picture.
    expect(assessEvidence(fusion, [clinic, row({ signal: 'ili', weak: true, pValue: 1e-3 })], '2025-05-10')).toBeNull();
    // Evidence older than the joint window does not pair up.
    const win = fusion.jointEvidence!.windowDays!;
    const stale = { ...clinic, day: dayRange('2025-04-01', '2025-05-10').at(-1 - win)! };
    expect(jointPicture(fusion, [stale, pharmacy], '2025-05-10').sources).toEqual(['pharmacy']);
    expect(assessEvidence(fusion, [stale, pharmacy], '2025-05-10')).toBeNull();
  });

  it('lets a school class cluster alert on its own at the configured level', () => {
    const rule = fusion.levels.find((l) => l.when.signals?.includes('school:class_cluster'))!;
    const cluster = classCluster();
    expect(assessEvidence(fusion, [cluster])).toMatchObject({ level: rule.level, sources: ['school'] });
    // A plain absence alarm at the same p is only evidence.
    expect(assessEvidence(fusion, [{ ...cluster, signal: 'school:illness_absence', method: 'earsC' }])).toBeNull();
  });
});

describe('weak evidence rows', () => {
  it('keeps only non-alarm days whose p is below weakEvidenceP, marked weak', () => {
    const sig = cfg.signals.find((s) => s.key === 'syndrome:diarrhoea')! as SignalConfig;
    expect(sig.weakEvidenceP).toBe(0.05);
    const days = dayRange('2025-01-01', '2025-03-31');
    // A noisy background (mean 1.4, sd 2.4): a day of 5 has Poisson p ≈ 0.02 but stays under C2's
    // bound at alpha 0.05 (1.4 + 1.645 × 2.4 ≈ 5.4). (Before 2026-12 the signal alarmed at alpha 0.01
    // and the test used a background of mean 1.3, sd 1.4 and a day of 4, which alpha 0.05 alarms on.)
    const observed = days.map((_, i) => [0, 5, 0, 0, 0, 5, 0][i % 7]!);
    const v = judgeSeries(sig, days, observed, 60);
    const rows = alarmsFromVerdict(sig, sig.key, '339902001000', v, 60);
    const weak = rows.filter((r) => r.weak);
    expect(weak.length).toBeGreaterThan(0);
    for (const r of weak) {
      expect(v.alarm[days.indexOf(r.day)]).toBe(false);
      expect(r.pValue).toBeLessThan(0.05);
    }
    for (const r of rows.filter((x) => !x.weak)) expect(v.alarm[days.indexOf(r.day)]).toBe(true);
    // Without weakEvidenceP only alarms come out.
    expect(alarmsFromVerdict({ ...sig, weakEvidenceP: undefined }, sig.key, '339902001000', v, 60).every((r) => !r.weak)).toBe(true);
  });
});

describe('events (same event, raise gate)', () => {
  const events = loadEventConfig();

  it('reads the events section of fusion.json, with defaults and a message naming a bad value', () => {
    // 3e-5 since 2026-12 (was 1e-4): daily EARS streams alarm at alpha 0.05 (signals.json), so the
    // gate on Fisher pictures of alarms tightened; fusion.json events.$comment gives the tuning.
    expect(events.raiseMaxJointP).toBe(3e-5);
    expect(events.splitByGroup).toBe(false);
    expect(Object.keys(events.groups)).toEqual(expect.arrayContaining(['gastrointestinal', 'respiratory']));
    // config.ts's schema drops the section: fusion reads it from the file, or from a caller's variant.
    expect(eventConfigOf(fusion)).toEqual(events);
    expect(eventConfigOf({ ...fusion, events: {} } as FusionConfig)).toEqual({ groups: {}, splitByGroup: false, raiseMaxJointP: 1 });
    expect(parseEventConfig({ $comment: 'why', raiseMaxJointP: 0.001 }).raiseMaxJointP).toBe(0.001);
    expect(() => parseEventConfig({ raiseMaxJointP: 0 })).toThrow(/events\.raiseMaxJointP/);
    expect(() => parseEventConfig({ gate: 1 })).toThrow(/events/);
  });

  it('relates signals of one syndrome group (and a scan cluster to its signal), not of different groups', () => {
    expect([...signalGroups(events, 'lab:NOV-GII')]).toEqual(['gastrointestinal']);
    expect([...signalGroups(events, 'sentinel:diarrhoea:S01')]).toEqual(['gastrointestinal']);
    expect(signalGroups(events, 'school:illness_absence').size).toBe(0); // unspecific
    expect(relatedSignals(events, 'syndrome:diarrhoea', 'lab:norovirus')).toBe(true);
    expect(relatedSignals(events, 'scan:syndrome:diarrhoea', 'pharmacy:antidiarrhoeal')).toBe(true);
    expect(relatedSignals(events, 'syndrome:diarrhoea', 'report:influenza')).toBe(false);
    // An unspecific signal is related to itself only.
    expect(relatedSignals(events, 'school:illness_absence', 'school:illness_absence')).toBe(true);
    expect(relatedSignals(events, 'school:illness_absence', 'syndrome:diarrhoea')).toBe(false);
    // Without groups only the same signal is the same event (the join before 2026-12).
    expect(relatedSignals(parseEventConfig({}), 'syndrome:diarrhoea', 'lab:norovirus')).toBe(false);
  });

  it('with splitByGroup judges each group on its own: sources of different groups do not agree', () => {
    const split = { ...events, splitByGroup: true };
    const diarrhoea = row({ pValue: 1e-3 });
    const flu = row({ signal: 'report:influenza', source: 'case-report', method: 'cidarsMpm', pValue: 1e-3 });
    const noro = row({ signal: 'lab:norovirus', source: 'lab', pValue: 1e-3 });
    expect(assessEvidence(fusion, [diarrhoea, flu], '2025-05-10', events)).toMatchObject({ level: 'orange', group: null });
    expect(assessEvidence(fusion, [diarrhoea, flu], '2025-05-10', split)).toBeNull();
    expect(assessEvidence(fusion, [diarrhoea, noro, flu], '2025-05-10', split)).toMatchObject({
      level: 'orange',
      group: 'gastrointestinal',
      sources: ['clinic-syndrome', 'lab'],
    });
    // An unspecific signal goes with any group.
    const school = row({ signal: 'school:illness_absence', source: 'school', pValue: 1e-3 });
    expect(assessEvidence(fusion, [flu, school], '2025-05-10', split)).toMatchObject({ level: 'orange', group: 'respiratory' });
    expect(commonGroups(split, ['syndrome:diarrhoea', 'school:illness_absence'])).toEqual(new Set(['gastrointestinal']));
    expect(fitsGroups(split, 'report:influenza', new Set(['gastrointestinal']))).toBe(false);
    expect(commonGroups(events, ['syndrome:diarrhoea'])).toBeNull(); // not split: any group goes
  });

  it('marks which assessments the raise gate applies to', () => {
    const two = assessEvidence(fusion, [row({ pValue: 0.01 }), row({ signal: 'lab:norovirus', source: 'lab', pValue: 0.01 })])!;
    expect(two).toMatchObject({ level: 'orange', statistical: true });
    expect(two.jointP).toBeGreaterThan(events.raiseMaxJointP); // recorded, not raised (fuseDays)
    const fixed = assessEvidence(fusion, [row({ signal: 'report:measles', source: 'case-report', method: 'cidarsFixed', fixed: true })])!;
    expect(fixed).toMatchObject({ level: 'red', statistical: false });
  });

  it('with the gate, passes over a too-weak agreeing-sources picture and tries the next rule', () => {
    // A school class cluster (rule-based, yellow) beside a chance syndrome alarm: the picture is
    // 'two sources' (orange) first, too weak for the gate; the class-cluster rule still raises it
    // (before 2026-12 the gated orange match ended the assessment and the cluster was lost).
    const cluster = classCluster();
    const chance = row({ pValue: 0.03 });
    expect(assessEvidence(fusion, [cluster, chance])).toMatchObject({ level: 'orange', statistical: true });
    const gated = assessEvidence(fusion, [cluster, chance], undefined, events, events.raiseMaxJointP);
    expect(gated).toMatchObject({ level: 'yellow', statistical: false });
    // Without a rule-based signal nothing passes the gate.
    expect(assessEvidence(fusion, [row({ pValue: 0.01 }), chance], undefined, events, events.raiseMaxJointP)).toBeNull();
  });
});
