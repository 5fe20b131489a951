/**
 * What the primary-care screens read from the simulated district looks like a district's: family-
 * doctor contracts at realistic coverage (key populations first), every programme patient with a
 * team and follow-ups about quarterly up to the end of the run, and birth doses in the FHIR
 * immunization registry so that vaccine coverage does not depend on the HL7 feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhir, removeDir, runInto } from './testing.js';

type Ref = { reference?: string };
type Res = { resourceType: string; id: string; [k: string]: unknown };
interface Patient extends Res {
  birthDate: string;
}
interface Episode extends Res {
  status: string;
  patient: Ref;
  period: { start: string; end: string };
  team: Ref[];
  type: { coding: { code: string }[] }[];
}
interface CareTeam extends Res {
  name: string;
  participant: { member: Ref }[];
}
interface Condition extends Res {
  subject: Ref;
  category: { coding: { code: string }[] }[];
  code: { coding: { code: string }[] };
}
interface Encounter extends Res {
  subject: Ref;
  period: { start: string };
  type: { coding: { system: string; code: string }[] }[];
  participant?: { individual?: Ref }[];
}
interface Immunization extends Res {
  patient: Ref;
  vaccineCode: { coding: { code: string }[] };
  occurrenceDateTime: string;
}

const START = '2025-01-01';
const DAYS = 365;
const LAST = '2025-12-31';
const idOf = (r: Ref | undefined) => r?.reference?.split('/')[1] ?? '';
const ageOn = (birth: string, day: string) => {
  const a = +day.slice(0, 4) - +birth.slice(0, 4);
  return day.slice(5) < birth.slice(5) ? a - 1 : a;
};
const daysBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000;

describe('primary care in the simulated district (4,000 residents × 1 year)', () => {
  let dir = '';
  let patients: Patient[] = [];
  let episodes: Episode[] = [];
  let teams: CareTeam[] = [];
  let conditions: Condition[] = [];
  let encounters: Encounter[] = [];
  let immunizations: Immunization[] = [];
  /** Patients of the hypertension/diabetes programme: a problem-list I10/E11 at the CHC. */
  let programme = new Set<string>();

  beforeAll(async () => {
    ({ dir } = await runInto('primary-care', { seed: 11, population: 4000, start: START, days: DAYS }));
    patients = fhir<Patient>(dir, 'Patient').filter((p) => /^pat-\d+$/.test(p.id));
    episodes = fhir<Episode>(dir, 'EpisodeOfCare');
    teams = fhir<CareTeam>(dir, 'CareTeam');
    conditions = fhir<Condition>(dir, 'Condition');
    encounters = fhir<Encounter>(dir, 'Encounter');
    immunizations = fhir<Immunization>(dir, 'Immunization');
    programme = new Set(
      conditions
        .filter((c) => c.category[0]!.coding[0]!.code === 'problem-list-item' && /^(I10|E11)/.test(c.code.coding[0]!.code))
        .map((c) => idOf(c.subject)),
    );
  });
  afterAll(() => removeDir(dir));

  it('signs family-doctor contracts with realistic coverage, key populations first', () => {
    expect(episodes.length).toBeGreaterThan(0);
    const inForce = new Set(
      episodes
        .filter((e) => ['active', 'finished'].includes(e.status) && e.period.start <= LAST && e.period.end >= LAST)
        .map((e) => idOf(e.patient)),
    );
    const rate = (list: Patient[]) => list.filter((p) => inForce.has(p.id)).length / list.length;
    const living = patients.filter((p) => p.birthDate <= LAST);
    const all = rate(living);
    const elderly = rate(living.filter((p) => ageOn(p.birthDate, LAST) >= 65));
    const children = rate(living.filter((p) => ageOn(p.birthDate, LAST) <= 6));
    const chronic = rate(living.filter((p) => programme.has(p.id)));
    for (const r of [elderly, children, chronic]) {
      expect(r).toBeGreaterThanOrEqual(0.35);
      expect(r).toBeLessThanOrEqual(0.75);
      expect(all).toBeLessThan(r);
    }
    expect(all).toBeGreaterThan(0.15);
    expect(all).toBeLessThan(0.4);
  });

  it('writes contracts the product reads: type, one-year period, a team that exists, no overlap per resident', () => {
    const teamIds = new Set(teams.map((t) => t.id));
    const byPatient = new Map<string, Episode[]>();
    for (const e of episodes) {
      expect(e.type[0]!.coding[0]!.code).toBe('family-doctor-contract');
      expect(teamIds.has(idOf(e.team[0]))).toBe(true);
      expect(daysBetween(e.period.start, e.period.end)).toBe(364);
      // Terms still running at the end of the run are active, earlier ones finished.
      expect(e.status).toBe(e.period.end >= LAST ? 'active' : 'finished');
      byPatient.set(idOf(e.patient), [...(byPatient.get(idOf(e.patient)) ?? []), e]);
    }
    for (const list of byPatient.values()) {
      list.sort((a, b) => a.period.start.localeCompare(b.period.start));
      for (let k = 1; k < list.length; k++) expect(list[k]!.period.start > list[k - 1]!.period.end).toBe(true);
    }
  });

  it('names each team as centres do and lists its members', () => {
    expect(teams.length).toBeGreaterThan(0);
    for (const t of teams) {
      expect(t.name).toMatch(/社区卫生服务中心 \S+医生团队$/);
      expect(t.participant.length).toBe(3);
    }
    expect(new Set(teams.map((t) => t.name)).size).toBe(teams.length);
  });

  it('gives every programme patient a team: a contract or follow-ups by a team member', () => {
    const members = new Set(teams.flatMap((t) => t.participant.map((p) => idOf(p.member))));
    const contracted = new Set(episodes.map((e) => idOf(e.patient)));
    const seenByTeam = new Set(
      encounters
        .filter((e) => e.participant?.some((p) => members.has(idOf(p.individual))))
        .filter((e) => e.type.some((t) => t.coding.some((c) => c.code === 'follow-up' || c.code === 'home-visit')))
        .map((e) => idOf(e.subject)),
    );
    expect(programme.size).toBeGreaterThan(100);
    const without = [...programme].filter((p) => !contracted.has(p) && !seenByTeam.has(p));
    // Only patients lost to follow-up for the whole year and without a contract have none.
    expect(without.length / programme.size).toBeLessThan(0.05);
  });

  it('follows programme patients about quarterly up to the end of the run', () => {
    const visits = new Map<string, string[]>();
    for (const e of encounters) {
      if (!e.type.some((t) => t.coding.some((c) => c.code === 'follow-up' || c.code === 'home-visit'))) continue;
      const p = idOf(e.subject);
      if (!programme.has(p)) continue;
      visits.set(p, [...(visits.get(p) ?? []), e.period.start.slice(0, 10)]);
    }
    const counts = [...programme].map((p) => visits.get(p)?.length ?? 0).sort((a, b) => a - b);
    const median = counts[counts.length >> 1]!;
    expect(median).toBeGreaterThanOrEqual(4);
    // At least four follow-ups for most, none at all for only a few (lost to follow-up).
    expect(counts.filter((n) => n >= 4).length / counts.length).toBeGreaterThan(0.6);
    expect(counts.filter((n) => n === 0).length / counts.length).toBeLessThan(0.1);
    // Follow-ups continue to the end: most patients were seen in the last quarter of the run.
    const lastQuarter = [...programme].filter((p) => (visits.get(p) ?? []).some((d) => daysBetween(d, LAST) < 100));
    expect(lastQuarter.length / programme.size).toBeGreaterThan(0.75);
  });

  it('sends birth doses of newborns to the FHIR immunization registry and keeps coverage above 90 %', () => {
    const doses = new Map<string, string[]>();
    for (const i of immunizations) {
      const p = idOf(i.patient);
      doses.set(p, [...(doses.get(p) ?? []), i.vaccineCode.coding[0]!.code]);
    }
    const newborns = patients.filter((p) => p.birthDate >= START && p.birthDate < '2025-12-29');
    expect(newborns.length).toBeGreaterThan(10);
    const bcg = newborns.filter((p) => doses.get(p.id)?.includes('BCG')).length / newborns.length;
    const hepb = newborns.filter((p) => doses.get(p.id)?.includes('HepB')).length / newborns.length;
    expect(bcg).toBeGreaterThan(0.9);
    expect(hepb).toBeGreaterThan(0.9);
    // Children aged 2-6 at the end: three doses of DTaP, HepB and two of IPV for almost all.
    const older = patients.filter((p) => ageOn(p.birthDate, LAST) >= 2 && ageOn(p.birthDate, LAST) <= 6);
    const count = (p: Patient, v: string) => (doses.get(p.id) ?? []).filter((x) => x === v).length;
    for (const [v, n] of [
      ['HepB', 3],
      ['DTaP', 3],
      ['IPV', 2],
      ['MMR', 1],
    ] as const)
      expect(older.filter((p) => count(p, v) >= n).length / older.length, v).toBeGreaterThan(0.9);
  });
});
