/** Contact truth: every outbreak case lists the contacts its records can reveal, each traceable to the Group or encounters that reveal it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TruthCaseContacts } from './contacts.js';
import { infectiousPeriod } from './contacts.js';
import { fhir, json, removeDir, runInto } from './testing.js';

interface Group {
  id: string;
  member: { entity: { reference: string } }[];
}
interface Truth {
  outbreaks: { id: string; kind: string; cases: { patientId: string; onsetDate: string | null; absenceDates: string[] }[] }[];
  contacts: TruthCaseContacts[];
}

describe('contact truth', () => {
  let dir = '';
  let truth: Truth;
  let groups: Map<string, Set<string>>;
  beforeAll(async () => {
    ({ dir } = await runInto('contacts', { seed: 3, population: 2500, start: '2024-10-20', days: 100 }));
    truth = json<Truth>(dir, 'truth.json');
    groups = new Map(fhir<Group>(dir, 'Group').map((g) => [g.id, new Set(g.member.map((m) => m.entity.reference.slice(8)))]));
  }, 60_000);
  afterAll(() => removeDir(dir));

  it('lists every case of every outbreak once, with its infectious period', () => {
    const cases = truth.outbreaks.flatMap((o) => o.cases.map((c) => `${o.id}|${c.patientId}`));
    expect(truth.contacts.map((c) => `${c.outbreakId}|${c.patientId}`)).toEqual(cases);
    for (const c of truth.contacts) expect(c.infectiousFrom <= c.infectiousTo).toBe(true);
  });

  it('has household and school-class contacts, each a fellow member of the Group named', () => {
    const all = truth.contacts.flatMap((c) =>
      c.contacts.map((x) => ({ ...x, case: c.patientId, from0: c.infectiousFrom, to0: c.infectiousTo })),
    );
    const household = all.filter((x) => x.kind === 'household');
    const klass = all.filter((x) => x.kind === 'school-class');
    expect(household.length).toBeGreaterThan(0);
    expect(klass.length).toBeGreaterThan(0);
    for (const x of [
      ...household.filter((h) => groups.get(h.place)?.has(h.patientId)),
      ...klass,
      ...all.filter((a) => a.kind === 'care-home'),
    ]) {
      const members = groups.get(x.place);
      expect(members, x.place).toBeDefined();
      expect(members!.has(x.patientId)).toBe(true);
      expect(members!.has(x.case)).toBe(true);
      expect(x.patientId).not.toBe(x.case);
      expect(x.from >= x.from0 && x.to <= x.to0 && x.from <= x.to).toBe(true);
    }
    // Household contacts outside the Group are children born into the household during the run.
    for (const h of household.filter((x) => !groups.get(x.place)?.has(x.patientId))) expect(groups.get(h.place)!.has(h.case)).toBe(true);
  });

  it('gives co-stays an overlap inside the infectious period, at a facility department', () => {
    for (const c of truth.contacts)
      for (const x of c.contacts.filter((k) => k.kind === 'ward' || k.kind === 'department')) {
        expect(x.place).toMatch(/^org-[^|]+\|.+/);
        expect(x.from <= x.to).toBe(true);
        expect(x.from.slice(0, 10) >= c.infectiousFrom && x.to.slice(0, 10) <= c.infectiousTo).toBe(true);
      }
  });

  it('reads infectious periods around onset, and days 1-3 after infection for carriers', () => {
    expect(infectiousPeriod('school-influenza', 10, 12)).toEqual([11, 17]);
    expect(infectiousPeriod('community-measles', 0, 11)).toEqual([10, 18]);
    expect(infectiousPeriod('care-home-norovirus', 5, null)).toEqual([6, 8]);
  });
});
