/** The programme engine on worked examples: facts in, episodes, items, due/overdue and indicator answers out. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProgrammes, parseProgramme, programmesDir, type Programme } from './definition.js';
import {
  controlledOn,
  countIndicator,
  evaluateResident,
  followUpChain,
  itemStatus,
  nextFollowUp,
  managedIn,
  matchersOf,
  rate,
  relevant,
  type Fact,
  type ItemState,
  type PersonFacts,
} from './engine.js';
import { nextFollowUpItem } from './next-follow-up.js';
import { factOf } from './facts.js';
import { summarise } from './summary.js';

const all = loadProgrammes();
const prog = (code: string): Programme => all.find((p) => p.code === code)!;
const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';
const OBS = 'https://yifang.health/fhir/CodeSystem/programme-observation';
const ICD = 'http://hl7.org/fhir/sid/icd-10';

const person = (over: Partial<PersonFacts> = {}): PersonFacts => ({
  patientId: 'p1',
  name: '张三',
  birthDate: null,
  gender: 'female',
  areaCode: '110105001001',
  organizationId: 'org-1',
  deceased: false,
  ...over,
});
let n = 0;
const visit = (code: string, date: string): Fact => ({
  ref: `Encounter/e${++n}`,
  resourceType: 'Encounter',
  codes: [`${SERVICE}|${code}`],
  start: date,
  end: null,
  active: true,
  valueCodes: [],
  valueNum: null,
});
const condition = (icd: string, start: string, end: string | null = null, active = true): Fact => ({
  ref: `Condition/c${++n}`,
  resourceType: 'Condition',
  codes: [`${ICD}|${icd}`],
  start,
  end,
  active,
  valueCodes: [],
  valueNum: null,
});
const assessment = (code: string, valueSystem: string, value: string, date: string): Fact => ({
  ref: `Observation/o${++n}`,
  resourceType: 'Observation',
  codes: [`${OBS}|${code}`],
  start: date,
  end: null,
  active: true,
  valueCodes: [`${valueSystem}|${value}`],
  valueNum: null,
});

describe('children 0–6', () => {
  const p = prog('child-0-6');
  const child = person({ birthDate: '2025-01-10', gender: 'male' });

  it('schedules the newborn visit and the checkups by age, and marks what is done, due and overdue', () => {
    const facts = [visit('newborn-visit', '2025-01-15'), visit('child-checkup', '2025-02-08'), visit('child-checkup', '2025-07-20')];
    const [ep] = evaluateResident(p, child, facts, '2025-09-01');
    expect(ep!.start).toBe('2025-01-10');
    expect(ep!.end).toBe('2032-01-10');
    const byCode = Object.fromEntries(ep!.items.map((i) => [i.code, i]));
    expect(byCode['newborn-visit']).toMatchObject({ from: '2025-01-10', to: '2025-02-07', deliveredOn: '2025-01-15' });
    expect(byCode['month-1']).toMatchObject({ from: '2025-02-07', to: '2025-03-10', deliveredOn: '2025-02-08' });
    expect(byCode['month-3']).toMatchObject({ from: '2025-03-10', to: '2025-06-10', deliveredOn: null });
    // The July checkup is at 6 months: it fulfils the 6-month item, not the missed 3-month one.
    expect(byCode['month-6']).toMatchObject({ from: '2025-06-10', to: '2025-08-10', deliveredOn: '2025-07-20' });
    expect(itemStatus(byCode['month-3']!, '2025-09-01')).toBe('overdue');
    expect(itemStatus(byCode['month-8']!, '2025-09-01')).toBe('due');
    expect(itemStatus(byCode['month-12']!, '2025-09-01')).toBe('upcoming');
    // Items further than a year ahead are not listed yet.
    expect(byCode['year-4']).toBeUndefined();
    expect(managedIn(p, ep!, { from: '2025-01-01', to: '2025-12-31' }, '2025-09-01')).toBe(false);
  });

  it('counts newborn visits against children born in the period, and needs a birth date', () => {
    const ind = p.indicators.find((i) => i.code === 'newborn-visit-rate')!;
    const kids = [
      { person: child, episodes: evaluateResident(p, child, [visit('newborn-visit', '2025-01-20')], '2025-12-31') },
      {
        person: person({ patientId: 'p2', birthDate: '2025-03-01' }),
        episodes: evaluateResident(p, person({ birthDate: '2025-03-01' }), [], '2025-12-31'),
      },
      {
        person: person({ patientId: 'p3', birthDate: '2024-12-30' }),
        episodes: evaluateResident(p, person({ birthDate: '2024-12-30' }), [], '2025-12-31'),
      },
    ];
    const counted = countIndicator(p, ind, kids, { from: '2025-01-01', to: '2025-12-31' }, '2025-12-31');
    expect(counted.map((c) => [c.person.patientId, c.inNumerator])).toEqual([
      ['p1', true],
      ['p2', false],
    ]);
    expect(evaluateResident(p, person({ birthDate: null }), [], '2025-12-31')).toEqual([]);
  });
});

describe('maternal care', () => {
  const p = prog('maternal');
  const woman = person({ birthDate: '1995-05-05' });

  it('runs antenatal windows from the start of pregnancy and postpartum windows from delivery', () => {
    const pregnancy = condition('Z34.0', '2025-01-01', '2025-10-01', false);
    const facts = [
      pregnancy,
      visit('antenatal-care', '2025-03-01'), // week 8: early registration
      visit('antenatal-care', '2025-04-25'), // week 16
      visit('antenatal-care', '2025-07-20'), // week 28
      visit('antenatal-care', '2025-08-20'), // week 33 (second in the same window: not a new item)
      visit('postpartum-visit', '2025-10-05'),
    ];
    const [ep] = evaluateResident(p, woman, facts, '2025-12-31');
    expect(ep).toMatchObject({ key: pregnancy.ref, start: '2025-01-01', endEvent: '2025-10-01', end: '2025-11-27' });
    const byCode = Object.fromEntries(ep!.items.map((i) => [i.code, i]));
    expect(byCode['antenatal-1']).toMatchObject({ to: '2025-04-02', deliveredOn: '2025-03-01' });
    expect(byCode['antenatal-3']!.deliveredOn).toBeNull();
    // Delivery in week 39 cuts the last antenatal window short.
    expect(byCode['antenatal-5']).toMatchObject({ from: '2025-09-17', to: '2025-10-01' });
    expect(byCode['postpartum-visit']).toMatchObject({ from: '2025-10-01', to: '2025-10-29', deliveredOn: '2025-10-05' });
    expect(byCode['postpartum-42d']).toMatchObject({ from: '2025-10-29', to: '2025-11-27', deliveredOn: null });

    const period = { from: '2025-01-01', to: '2025-12-31' };
    const res = [{ person: woman, episodes: [ep!] }];
    const answer = (code: string) =>
      countIndicator(
        p,
        p.indicators.find((i) => i.code === code)!,
        res,
        period,
        '2025-12-31',
      )[0]?.inNumerator;
    expect(answer('early-registration-rate')).toBe(true);
    expect(answer('postpartum-visit-rate')).toBe(true);
    expect(answer('system-management-rate')).toBe(false); // 4 antenatal visits, not 5
    // Not high risk: outside the 专案管理 denominator.
    expect(answer('high-risk-case-management-rate')).toBeUndefined();
  });

  it('flags a high-risk pregnancy and asks for case management; men never enter', () => {
    const facts = [condition('Z35.9', '2025-02-01'), visit('high-risk-case-management', '2025-04-01')];
    const [ep] = evaluateResident(p, woman, facts, '2025-06-01');
    expect(ep!.flags).toEqual(['high-risk']);
    expect(ep!.end).toBe('2025-11-28'); // no delivery yet: open for at most 300 days
    expect(evaluateResident(p, person({ gender: 'male' }), facts, '2025-06-01')).toEqual([]);
  });

  it('a pregnancy recorded twice (Condition and EpisodeOfCare) is one episode', () => {
    const episode: Fact = {
      ref: 'EpisodeOfCare/ep1',
      resourceType: 'EpisodeOfCare',
      codes: ['http://snomed.info/sct|77386006'],
      start: '2025-01-20',
      end: '2025-10-03',
      active: true,
      valueCodes: [],
      valueNum: null,
    };
    const eps = evaluateResident(p, woman, [condition('Z34.0', '2025-01-01'), episode], '2025-12-31');
    expect(eps).toHaveLength(1);
    expect(eps[0]!.endEvent).toBe('2025-10-03');
  });
});

describe('people aged 65+', () => {
  const p = prog('elderly-65');
  it('enters on the 65th birthday and owes one check a calendar year', () => {
    const old = person({ birthDate: '1960-08-15' });
    const [ep] = evaluateResident(
      p,
      old,
      [visit('elderly-health-check', '2025-03-01'), visit('elderly-health-check', '2026-02-01')],
      '2026-06-01',
    );
    expect(ep!.start).toBe('2025-08-15');
    // The March 2025 check came before the 65th birthday: the first year's item starts on the birthday.
    expect(ep!.items.map((i) => [i.from, i.to, i.deliveredOn])).toEqual([
      ['2025-08-15', '2026-01-01', null],
      ['2026-01-01', '2027-01-01', '2026-02-01'],
      ['2027-01-01', '2028-01-01', null],
    ]);
    expect(managedIn(p, ep!, { from: '2025-01-01', to: '2025-12-31' }, '2026-06-01')).toBe(false);
    expect(managedIn(p, ep!, { from: '2026-01-01', to: '2026-12-31' }, '2026-12-31')).toBe(true);
    // Yearly items of long-past years can be left out.
    const [recent] = evaluateResident(p, person({ birthDate: '1940-08-15' }), [], '2026-06-01', '2025-01-01');
    expect(recent!.items.map((i) => i.from)).toEqual(['2025-01-01', '2026-01-01', '2027-01-01']);
  });
});

describe('severe mental disorders', () => {
  const p = prog('severe-mental-disorders');
  it('asks for a follow-up every quarter and reads 病情 from the latest assessment', () => {
    const facts = [
      condition('F20.0', '2024-05-01'),
      ...['2025-02-01', '2025-05-01', '2025-08-01', '2025-11-01'].map((d) => visit('mental-follow-up', d)),
      assessment('mental-condition', 'https://yifang.health/fhir/CodeSystem/mental-condition', 'unstable', '2025-08-01'),
      assessment('mental-condition', 'https://yifang.health/fhir/CodeSystem/mental-condition', 'stable', '2025-11-01'),
    ];
    const [ep] = evaluateResident(p, person({ birthDate: '1980-01-01' }), facts, '2025-12-31');
    const year = { from: '2025-01-01', to: '2025-12-31' };
    expect(managedIn(p, ep!, year, '2025-12-31')).toBe(true);
    expect(controlledOn(p, ep!, '2025-09-01')).toBe(false);
    expect(controlledOn(p, ep!, '2025-12-31')).toBe(true);
    // A missed quarter breaks 规范管理.
    const [gap] = evaluateResident(
      p,
      person(),
      facts.filter((f) => f.start !== '2025-05-01'),
      '2025-12-31',
    );
    expect(managedIn(p, gap!, year, '2025-12-31')).toBe(false);
    // A resolved diagnosis without includeResolved opens nothing.
    expect(evaluateResident(p, person(), [condition('F20.0', '2024-05-01', '2024-09-01', false)], '2025-12-31')).toEqual([]);
  });
});

describe('tuberculosis', () => {
  const p = prog('tuberculosis');
  it('runs a six-month course with a first visit in 72 hours and reads the outcome after it', () => {
    const dx = condition('A15.0', '2025-01-10', '2025-07-15', false);
    const facts = [
      dx,
      visit('tb-visit', '2025-01-11'),
      ...['2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01', '2025-07-01'].map((d) => visit('tb-visit', d)),
      assessment('tb-treatment-outcome', 'https://yifang.health/fhir/CodeSystem/tb-outcome', 'cured', '2025-07-15'),
    ];
    const [ep] = evaluateResident(p, person(), facts, '2025-12-31');
    expect(ep).toMatchObject({ start: '2025-01-10', end: '2025-07-10' });
    expect(ep!.items.map((i) => i.deliveredOn)).toEqual([
      '2025-01-11',
      '2025-02-01',
      '2025-03-01',
      '2025-04-01',
      '2025-05-01',
      '2025-06-01',
      '2025-07-01',
    ]);
    const year = { from: '2025-01-01', to: '2025-12-31' };
    const success = p.indicators.find((i) => i.code === 'treatment-success-rate')!;
    expect(countIndicator(p, success, [{ person: person(), episodes: [ep!] }], year, '2025-12-31')).toMatchObject([{ inNumerator: true }]);
    expect(managedIn(p, ep!, year, '2025-12-31')).toBe(true);
  });

  it('a second diagnosis after the course opens a new episode; one during it does not', () => {
    const eps = evaluateResident(
      p,
      person(),
      [condition('A15.0', '2024-01-01', '2024-07-01', false), condition('A16.2', '2024-03-01'), condition('A15.1', '2025-03-01')],
      '2025-12-31',
    );
    expect(eps.map((e) => e.start)).toEqual(['2024-01-01', '2025-03-01']);
  });
});

describe('facts from FHIR', () => {
  it('reads codes, dates, status and values; a cancelled visit delivers nothing', () => {
    const f = factOf({
      resourceType: 'Encounter',
      id: 'e1',
      status: 'cancelled',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/p1' },
      type: [{ coding: [{ system: SERVICE, code: 'child-checkup' }] }],
      period: { start: '2025-03-01T09:00:00+08:00' },
    });
    expect(f).toMatchObject({ patientId: 'p1', codes: [`${SERVICE}|child-checkup`], start: '2025-03-01', active: false });
    const o = factOf({
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      subject: { reference: 'Patient/p1' },
      code: { coding: [{ system: OBS, code: 'tb-treatment-outcome' }] },
      effectiveDateTime: '2025-07-15',
      valueCodeableConcept: { coding: [{ system: 'https://yifang.health/fhir/CodeSystem/tb-outcome', code: 'cured' }] },
    });
    expect(o!.valueCodes).toEqual(['https://yifang.health/fhir/CodeSystem/tb-outcome|cured']);
    // Only records some programme could use are kept: the outcome is, a heart rate is not (a blood pressure is: hypertension's).
    const matchers = matchersOf(all);
    expect(relevant(matchers, o!)).toBe(true);
    const reading = (code: string) =>
      factOf({
        resourceType: 'Observation',
        id: 'o2',
        status: 'final',
        subject: { reference: 'Patient/p1' },
        code: { coding: [{ system: 'http://loinc.org', code }] },
        effectiveDateTime: '2025-07-15',
      })!;
    expect(relevant(matchers, reading('8867-4'))).toBe(false);
    expect(relevant(matchers, reading('85354-9'))).toBe(true);
  });
});

describe('rates', () => {
  it('follow the indicator rule when the denominator is 0', () => {
    const ind = prog('elderly-65').indicators[0]!;
    expect(rate(ind, 0, 0)).toBeNull();
    expect(rate({ ...ind, whenDenominatorZero: 'zero' }, 0, 0)).toBe(0);
    expect(rate(ind, 2, 3)).toBe(66.7);
  });
});

describe('entry by a screening result or a staff flag, and the within rule', () => {
  // A made-up programme: entered by a positive screening value (PHQ-9 ≥ 10) or a Flag; a visit within 14 days.
  const p = parseProgramme(
    'screening.json',
    JSON.stringify({
      code: 'screened',
      name: '筛查阳性随访',
      source: 'test',
      entry: {
        anchor: 'fact',
        facts: [
          { resource: 'Observation', system: 'http://loinc.org', codes: ['44261-6'], min: 10 },
          { resource: 'Flag', system: 'https://yifang.health/fhir/CodeSystem/key-population', codes: ['disabled'] },
        ],
        durationMonths: 3,
      },
      services: { visit: { name: '随访', match: [{ resource: 'Encounter', system: SERVICE, codes: ['mental-follow-up'] }] } },
      versions: [
        {
          version: 'v1',
          effectiveFrom: '2020-01-01',
          source: 'test',
          schedule: { cycle: 'episode', items: [{ code: 'first', name: '首次随访', service: 'visit', from: '0d', to: '1m' }] },
          managed: { name: 'all', allItemsDelivered: true },
        },
      ],
      indicators: [
        {
          code: 'fast',
          name: '14天内随访率',
          source: 'test',
          denominator: { population: 'started', text: 'positive screens' },
          numerator: { where: [{ delivered: 'first', within: '14d' }], text: 'seen in 14 days' },
          whenDenominatorZero: 'zero',
        },
      ],
    }),
  );
  const score = (value: number, date: string): Fact => ({
    ref: `Observation/s${++n}`,
    resourceType: 'Observation',
    codes: ['http://loinc.org|44261-6'],
    start: date,
    end: null,
    active: true,
    valueCodes: [],
    valueNum: value,
  });

  it('a score under the threshold opens nothing; one above it opens an episode', () => {
    expect(evaluateResident(p, person(), [score(6, '2025-03-01')], '2025-12-31')).toEqual([]);
    const [ep] = evaluateResident(p, person(), [score(6, '2025-03-01'), score(14, '2025-04-01')], '2025-12-31');
    expect(ep).toMatchObject({ start: '2025-04-01', end: '2025-07-01' });
    const flagged = evaluateResident(
      p,
      person(),
      [
        {
          ref: 'Flag/f1',
          resourceType: 'Flag',
          codes: ['https://yifang.health/fhir/CodeSystem/key-population|disabled'],
          start: '2025-05-05',
          end: null,
          active: true,
          valueCodes: [],
          valueNum: null,
        },
      ],
      '2025-12-31',
    );
    expect(flagged.map((e) => e.start)).toEqual(['2025-05-05']);
  });

  it('"within" narrows the item window for an indicator; an empty denominator follows the zero rule', () => {
    const ind = p.indicators[0]!;
    const year = { from: '2025-01-01', to: '2025-12-31' };
    const answer = (seenOn: string) => {
      const facts = [score(12, '2025-04-01'), visit('mental-follow-up', seenOn)];
      const episodes = evaluateResident(p, person(), facts, '2025-12-31');
      return countIndicator(p, ind, [{ person: person(), episodes }], year, '2025-12-31')[0]!.inNumerator;
    };
    expect(answer('2025-04-10')).toBe(true);
    expect(answer('2025-04-20')).toBe(false);
    expect(countIndicator(p, ind, [], year, '2025-12-31')).toEqual([]);
    expect(rate(ind, 0, 0)).toBe(0);
  });
});

describe('entry.activeStatuses: which clinical statuses of a diagnosis keep a person enrolled', () => {
  const mental = prog('severe-mental-disorders');
  const tb = prog('tuberculosis');
  const smd = (clinical: string | undefined, verification?: string) =>
    factOf({
      resourceType: 'Condition',
      id: `c${++n}`,
      ...(clinical
        ? { clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: clinical }] } }
        : {}),
      ...(verification
        ? { verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: verification }] } }
        : {}),
      code: { coding: [{ system: ICD, code: 'F20.0' }] },
      subject: { reference: 'Patient/p1' },
      onsetDateTime: '2020-03-01',
    })!;
  const enrolled = (p: Programme, f: Fact) => evaluateResident(p, person(), [f], '2025-12-31').length > 0;

  it('keeps a severe mental disorder in remission, inactive or resolved enrolled (the norm ends management only on death, moving away or a refuted diagnosis)', () => {
    for (const status of ['active', 'recurrence', 'relapse', 'remission', 'inactive', 'resolved', undefined])
      expect(enrolled(mental, smd(status)), String(status)).toBe(true);
    // A provisional or differential diagnosis never enrols; a refuted one is no fact at all.
    expect(enrolled(mental, smd('remission', 'provisional'))).toBe(false);
    expect(enrolled(mental, smd('active', 'differential'))).toBe(false);
    expect(smd('remission', 'refuted')).toBeNull();
  });

  it('without activeStatuses an entry keeps today’s rule (active, recurrence, relapse)', () => {
    const noStatuses: Programme = { ...mental, entry: { ...mental.entry, activeStatuses: undefined } };
    expect(enrolled(noStatuses, smd('active'))).toBe(true);
    expect(enrolled(noStatuses, smd('relapse'))).toBe(true);
    expect(enrolled(noStatuses, smd('remission'))).toBe(false);
    expect(tb.entry.activeStatuses).toBeUndefined();
  });

  it('reads a Condition row kept before the statuses were (no status codes) by its active flag', () => {
    expect(enrolled(mental, condition('F20.0', '2020-03-01', null, true))).toBe(true);
    expect(enrolled(mental, condition('F20.0', '2020-03-01', null, false))).toBe(false);
  });
});

describe('numeric targets and follow-ups due from the previous one (hypertension, config/programmes/hypertension.json)', () => {
  const htn = parseProgramme('hypertension.json', fs.readFileSync(path.join(programmesDir, 'hypertension.json'), 'utf8'));
  const LOINC = 'http://loinc.org';
  const VISIT = 'https://yifang.health/fhir/CodeSystem/visit-type';
  const followUp = (date: string): Fact => ({ ...visit('x', date), codes: [`${VISIT}|follow-up`] });
  const bp = (date: string, sbp: number, dbp: number, encounter?: string): Fact => ({
    ref: `Observation/o${++n}`,
    resourceType: 'Observation',
    codes: [`${LOINC}|85354-9`],
    start: date,
    end: null,
    active: true,
    valueCodes: [],
    valueNum: null,
    readings: { [`${LOINC}|8480-6`]: sbp, [`${LOINC}|8462-4`]: dbp },
    ...(encounter ? { encounter } : {}),
  });
  /** A follow-up with its blood pressure (naming the encounter, as the service's linkedBy asks). */
  const withBp = (date: string, sbp: number, dbp: number): Fact[] => {
    const e = followUp(date);
    return [e, bp(date, sbp, dbp, e.ref)];
  };
  const who = person({ birthDate: '1950-06-01' });
  const at = (facts: Fact[]) => evaluateResident(htn, who, facts, '2025-12-31')[0]!;

  it('sets the next follow-up 90 days on when controlled, 14 when not, the same day when urgent; on time within 7 days of it', () => {
    const ep = at([
      condition('I10', '2024-01-01'),
      ...[
        ['2025-01-06', 128, 78], // controlled (74: 140/90 until 2025-06-30) → due 04-06
        ['2025-04-12', 150, 85], // on time (≤ 04-13); uncontrolled → due 04-26
        ['2025-05-04', 185, 100], // 8 days after 04-26: late; urgent → due 05-04
        ['2025-05-10', 125, 75], // within 7 days of 05-04; controlled → due 08-08
      ].flatMap(([d, s, di]) => withBp(d as string, s as number, di as number)),
      // A follow-up without a blood pressure naming it is not this programme's (even with one taken that day),
      followUp('2025-06-01'),
      bp('2025-06-01', 150, 95),
      // nor one whose blood pressure is implausible (diastolic not below systolic).
      ...withBp('2025-06-20', 90, 95),
    ]);
    expect(followUpChain(htn, ep, who.birthDate, 'follow-up').map((g) => [g.date, g.due, g.onTime])).toEqual([
      ['2025-01-06', null, true],
      ['2025-04-12', '2025-04-06', true],
      ['2025-05-04', '2025-04-26', false],
      ['2025-05-10', '2025-05-04', true],
    ]);
    const Y = { from: '2025-01-01', to: '2025-12-31' };
    expect(managedIn(htn, ep, Y, '2025-12-31', who)).toBe(false);
    // The last follow-up of the period decides control: 125/75 at 75 years old.
    expect(controlledOn(htn, ep, '2025-12-31', who, Y)).toBe(true);
  });

  it('reads what the follow-up form reports (symptom, adverse reaction, new complication) and counts planned follow-ups', () => {
    const FORM = 'https://yifang.health/fhir/StructureDefinition/chronic-follow-up';
    const STATUS = 'http://hl7.org/fhir/encounter-status';
    /** A follow-up written on the form (no visit type), with what it reports and its status as facts.ts reads them. */
    const form = (date: string, reports: string[], status = 'finished', bpOf?: [number, number]): Fact[] => {
      const e: Fact = {
        ...visit('x', date),
        codes: [`${FORM}#mode|face-to-face`, ...reports.map((r) => `${FORM}#${r}`)],
        active: status !== 'planned',
        valueCodes: [`${STATUS}|${status}`],
      };
      return bpOf ? [e, bp(date, bpOf[0], bpOf[1], e.ref)] : [e];
    };
    const ep = at([
      condition('I10', '2024-01-01'),
      ...form('2025-01-06', ['adverse-reaction|manageable'], 'finished', [128, 78]), // at target, but a reaction → due 01-20
      ...form('2025-01-25', ['new-complication|false', 'symptom|dizziness'], 'finished', [128, 78]), // on time; nothing urgent → due 04-25
      ...form('2025-04-20', ['symptom|chest-pain']), // no reading, a symptom: a follow-up; an emergency one → due the same day
      ...form('2025-04-30', ['new-complication|true'], 'planned', [128, 78]), // planned counts; late (04-20 + 7); complication → due 05-14
      ...form('2025-05-10', ['adverse-reaction|unmanageable']), // no reading, no symptom: no follow-up
      ...form('2025-05-12', [], 'cancelled', [128, 78]), // cancelled: no follow-up
    ]);
    expect(followUpChain(htn, ep, who.birthDate, 'follow-up').map((g) => [g.date, g.due, g.onTime])).toEqual([
      ['2025-01-06', null, true],
      ['2025-01-25', '2025-01-20', true],
      ['2025-04-20', '2025-04-25', true],
      ['2025-04-30', '2025-04-20', false],
    ]);
    // A row stored before facts.ts kept the status has none: it counts by `active`, as before (a planned one does not).
    const stored = at([
      condition('I10', '2024-01-01'),
      ...form('2025-04-30', [], 'planned', [128, 78]).map((f) => ({ ...f, valueCodes: [] })),
    ]);
    expect(stored.services).toEqual([]);
  });

  it("sets the next follow-up (chronic care's next due date) from the last one: 90 days when controlled, 14 when not, the same day when urgent", () => {
    const next = (facts: Fact[]) => {
      const ep = at([condition('I10', '2024-03-01'), ...facts]);
      return [nextFollowUp(htn, ep, who.birthDate, 'follow-up'), nextFollowUpItem(htn, ep, who.birthDate)] as const;
    };
    // None yet: due from the episode's first day (chronic care: from the diagnosis).
    expect(next([])[0]).toEqual({ due: '2024-03-01', toleranceDays: 7, last: null, reason: { kind: 'first' } });
    // Controlled (125/75 at 75 years old, the rules from 2025-07-01: < 130/80): 90 days on; on time until 7 days after.
    const [controlled, item] = next(withBp('2025-09-01', 125, 75));
    expect(controlled).toEqual({ due: '2025-11-30', toleranceDays: 7, last: '2025-09-01', reason: { kind: 'controlled', days: 90 } });
    expect(item).toMatchObject({
      item: 'next-follow-up',
      name: '下次随访',
      window_from: '2025-11-30',
      window_to: '2025-12-08',
      recommended: '上次随访（2025-09-01）达标：90天内随访',
      delivered_on: null,
      version: '2025',
    });
    // Uncontrolled: 14 days; an earlier follow-up does not count, the last one sets it.
    expect(next([...withBp('2025-06-01', 120, 70), ...withBp('2025-09-01', 150, 85)])[0]).toEqual({
      due: '2025-09-15',
      toleranceDays: 7,
      last: '2025-09-01',
      reason: { kind: 'uncontrolled', days: 14 },
    });
    // Urgent (systolic 185): the same day.
    const [urgent, urgentItem] = next(withBp('2025-09-01', 185, 100));
    expect(urgent).toEqual({ due: '2025-09-01', toleranceDays: 7, last: '2025-09-01', reason: { kind: 'urgent', days: 0 } });
    expect(urgentItem).toMatchObject({
      window_from: '2025-09-01',
      window_to: '2025-09-09',
      recommended: '上次随访（2025-09-01）有危急情况：当日随访',
    });
    // Urgent by what the follow-up form records (chest pain, no reading): the same day; a reported reaction (a finding): 14 days.
    const FORM = 'https://yifang.health/fhir/StructureDefinition/chronic-follow-up';
    const form = (date: string, reports: string[]): Fact => ({
      ...followUp(date),
      codes: [`${FORM}#mode|face-to-face`, ...reports.map((r) => `${FORM}#${r}`)],
    });
    expect(next([form('2025-09-01', ['symptom|chest-pain'])])[0]?.reason).toEqual({ kind: 'urgent', days: 0 });
    const e = form('2025-09-01', ['adverse-reaction|manageable']);
    const [finding, findingItem] = next([e, bp('2025-09-01', 125, 75, e.ref)]);
    expect(finding).toMatchObject({ due: '2025-09-15', reason: { kind: 'finding', days: 14 } });
    expect(findingItem?.recommended).toBe('上次随访（2025-09-01）：药物不良反应（可处理）：调整治疗，2周内随访');
    // The item is due from its day and overdue after the tolerance (itemStatus, as the worklist's query).
    const state = (asOf: string) =>
      itemStatus({ ...item!, from: item!.window_from, to: item!.window_to, deliveredOn: null } as unknown as ItemState, asOf);
    expect(['2025-11-29', '2025-11-30', '2025-12-07', '2025-12-08'].map(state)).toEqual(['upcoming', 'due', 'due', 'overdue']);
  });

  it('honours what a doctor recorded by hand: an enrolment without a diagnosis, and transferred or died from a day on', () => {
    const young = person({ birthDate: '2000-01-01' });
    const manual = { enrolledOn: '2025-03-01', status: 'managed' as const, statusOn: null };
    // Enrolled by hand: an episode from that day (no entry age, as chronic care's manual enrolment), its follow-ups counted.
    const byHand = evaluateResident(htn, young, withBp('2025-04-01', 125, 75), '2025-12-31', undefined, '2025-12-31', manual);
    expect(byHand.map((e) => [e.key, e.start, e.end, e.services.length])).toEqual([['manual', '2025-03-01', null, 1]]);
    expect(evaluateResident(htn, young, [], '2025-12-31')).toEqual([]);
    // A diagnosis record enrols instead (chronic care: the record's evidence wins).
    const both = evaluateResident(htn, who, [condition('I10', '2024-01-01')], '2025-12-31', undefined, '2025-12-31', manual);
    expect(both.map((e) => [e.key.slice(0, 10), e.start])).toEqual([['Condition/', '2024-01-01']]);
    // Transferred out on 2025-06-15: the episode ends that day; follow-ups after it no longer count; not in a later period.
    const facts = [condition('I10', '2024-01-01'), ...withBp('2025-03-01', 125, 75), ...withBp('2025-07-01', 125, 75)];
    const left = evaluateResident(htn, who, facts, '2025-12-31', undefined, '2025-12-31', {
      enrolledOn: null,
      status: 'transferred',
      statusOn: '2025-06-15',
    })[0]!;
    expect([left.end, left.services.map((g) => g.date)]).toEqual(['2025-06-15', ['2025-03-01']]);
    const ind = htn.indicators.find((i) => i.code === 'control-rate')!;
    const count = (period: { from: string; to: string }) =>
      countIndicator(htn, ind, [{ person: who, episodes: [left] }], period, '2025-12-31').map((c) => c.inNumerator);
    expect(count({ from: '2025-01-01', to: '2025-12-31' })).toEqual([true]); // in 2025 with its follow-up before the day
    expect(count({ from: '2025-07-01', to: '2025-12-31' })).toEqual([]); // out from that day on
    // The follow-up due before that day stays as it was (the lists leave the resident out from the day on); none due after it.
    expect(nextFollowUpItem(htn, left, who.birthDate)).toMatchObject({ window_from: '2025-05-30' });
    const leftEarly = { enrolledOn: null, status: 'transferred' as const, statusOn: '2025-05-01' };
    expect(
      nextFollowUpItem(htn, evaluateResident(htn, who, facts, '2025-12-31', undefined, '2025-12-31', leftEarly)[0]!, who.birthDate),
    ).toBeNull();
    // Died before the diagnosis: no episode at all; managed again: as before.
    expect(
      evaluateResident(htn, who, facts, '2025-12-31', undefined, '2025-12-31', {
        enrolledOn: null,
        status: 'died',
        statusOn: '2023-12-01',
      }),
    ).toEqual([]);
    expect(
      evaluateResident(htn, who, facts, '2025-12-31', undefined, '2025-12-31', { enrolledOn: null, status: 'managed', statusOn: null }),
    ).toEqual(evaluateResident(htn, who, facts, '2025-12-31'));
  });

  it('reads targets of the version in force on the reading day, by age and comorbidity', () => {
    const reading = (d: string, s: number, di: number, extra: Fact[] = []) =>
      controlledOn(htn, at([condition('I10', '2020-01-01'), ...withBp(d, s, di), ...extra]), d, who, { from: '2025-01-01', to: d });
    expect(reading('2025-06-30', 135, 85)).toBe(true); // 2020 rules, 75 years: < 140/90
    expect(reading('2025-07-01', 135, 85)).toBe(false); // 2025 rules, under 80: < 130/80
    expect(reading('2025-06-30', 135, 85, [condition('N18.3', '2021-01-01')])).toBe(false); // 2020 rules with CKD: < 130/80
    expect(reading('2025-06-30', 135, 85, [condition('N18.3', '2021-01-01', null, false)])).toBe(true); // CKD no longer active
  });
});

describe('focus-group entry rules: an upper entry age, "within" from the episode start, leaving on a later assessment', () => {
  const dev = prog('child-development');
  const ALL = { from: '2025-01-01', to: '2025-12-31' };
  const barthel = (value: number, date: string, active = true): Fact => ({
    ref: `Observation/b${++n}`,
    resourceType: 'Observation',
    codes: [`${OBS}|barthel-index`],
    start: date,
    end: null,
    active,
    valueCodes: [],
    valueNum: value,
  });

  it('child-development ends at the 7th birthday: a diagnosis at 7 opens nothing, by hand or not', () => {
    const kid = person({ birthDate: '2018-05-10' });
    const [ep] = evaluateResident(dev, kid, [condition('F84.0', '2022-03-01'), visit('development-follow-up', '2025-06-01')], '2025-12-31');
    expect([ep!.start, ep!.end]).toEqual(['2022-03-01', '2025-05-10']);
    // The follow-up after the birthday is no service of the episode; the second half-year's item is not listed.
    expect(ep!.services).toEqual([]);
    expect(ep!.items.map((i) => [i.code, i.from, i.to])).toContainEqual(['follow-up-h1', '2025-01-01', '2025-05-10']);
    expect(ep!.items.some((i) => i.from >= '2025-05-10')).toBe(false);
    // Enrolled in 2025 until the birthday, but not 期末未满7岁: out of the 2025 figures, in 2024's.
    const rate = dev.indicators.find((i) => i.code === 'follow-up-rate')!;
    expect(countIndicator(dev, rate, [{ person: kid, episodes: [ep!] }], ALL, '2025-12-31')).toEqual([]);
    expect(
      countIndicator(dev, rate, [{ person: kid, episodes: [ep!] }], { from: '2024-01-01', to: '2024-12-31' }, '2025-12-31'),
    ).toHaveLength(1);
    expect(evaluateResident(dev, kid, [condition('F84.0', '2025-05-10')], '2025-12-31')).toEqual([]);
    const byHand = { enrolledOn: '2025-06-01', status: 'managed' as const, statusOn: null };
    expect(evaluateResident(dev, kid, [], '2025-12-31', undefined, '2025-12-31', byHand)).toEqual([]);
    // Without a birth date nobody is kept out (as the lower age).
    expect(evaluateResident(dev, person(), [condition('F84.0', '2022-03-01')], '2025-12-31')[0]!.end).toBeNull();
  });

  it('"within" counts services from the episode start up to the offset, on the engine and the summary', () => {
    const p = structuredClone(dev) as Programme;
    const ind = structuredClone(p.indicators.find((i) => i.code === 'rehabilitation-referral-rate')!);
    ind.numerator.where = [{ services: 'rehabilitation-referral', min: 1, in: 'episode', within: '2m', measuredBy: 'asOf' }];
    const kid = person({ birthDate: '2021-01-15' });
    p.indicators = p.indicators.map((i) => (i.code === ind.code ? ind : i));
    const episodes = (referral: string | null) =>
      evaluateResident(
        p,
        kid,
        [condition('F84.0', '2025-03-10'), ...(referral ? [visit('rehabilitation-referral', referral)] : [])],
        '2026-01-31',
      );
    // The summary mark: [the referral's day, ∞) when it came within 2 months, else empty (the SQL reads it on asOf).
    const mark = (referral: string | null) => {
      const s = summarise(p, episodes(referral)[0]!, '2025-01-01');
      return s.mark_days[s.mark_keys.indexOf('k:rehabilitation-referral:1:2m')];
    };
    expect(mark('2025-05-09')).toBe('{[2025-05-09,)}');
    expect(mark('2025-05-10')).toBe('{}');
    expect(mark(null)).toBe('{}');
    const figure = (referral: string | null) =>
      countIndicator(
        p,
        ind,
        [
          {
            person: kid,
            episodes: evaluateResident(
              p,
              kid,
              [condition('F84.0', '2025-03-10'), ...(referral ? [visit('rehabilitation-referral', referral)] : [])],
              '2026-01-31',
            ),
          },
        ],
        ALL,
        '2026-01-31',
      ).map((c) => c.inNumerator);
    expect(figure('2025-03-10')).toEqual([true]); // the day of diagnosis
    expect(figure('2025-05-09')).toEqual([true]); // the last day within 2 months
    expect(figure('2025-05-10')).toEqual([false]); // 2 months on: too late
    expect(figure(null)).toEqual([false]);
  });

  it('leaves on a later assessment (endWhen): Barthel above 60 ends the episode unless a dementia diagnosis stands', () => {
    const p = prog('disabled-elderly');
    expect(p.entry.endWhen?.facts[0]).toMatchObject({ codes: ['barthel-index'], min: 61 });
    const old = person({ birthDate: '1950-01-01' });
    const spans = (facts: Fact[]) => evaluateResident(p, old, facts, '2025-12-31').map((e) => [e.start, e.end]);
    // Registered at 40, re-assessed at 70: that day is the last enrolled one; a later score of 55 opens a new episode.
    expect(spans([barthel(40, '2024-03-01'), barthel(70, '2025-02-01')])).toEqual([['2024-03-01', '2025-02-02']]);
    expect(spans([barthel(40, '2024-03-01'), barthel(70, '2025-02-01'), barthel(55, '2025-09-01')])).toEqual([
      ['2024-03-01', '2025-02-02'],
      ['2025-09-01', null],
    ]);
    // A score of exactly 60 keeps the resident; one entered in error ends nothing.
    expect(spans([barthel(40, '2024-03-01'), barthel(60, '2025-02-01')])).toEqual([['2024-03-01', null]]);
    expect(spans([barthel(40, '2024-03-01'), barthel(90, '2025-02-01', false)])).toEqual([['2024-03-01', null]]);
    // A dementia diagnosis standing on the day keeps 失智 enrolled; one made after the better score does not undo it.
    expect(spans([barthel(40, '2024-03-01'), condition('F03', '2024-06-01'), barthel(80, '2025-02-01')])).toEqual([['2024-03-01', null]]);
    expect(spans([barthel(40, '2024-03-01'), barthel(80, '2025-02-01'), condition('F03', '2025-05-01')])).toEqual([
      ['2024-03-01', '2025-02-02'],
      ['2025-05-01', null],
    ]);
    // A resolved dementia diagnosis (ended before the day) does not keep anyone.
    expect(spans([barthel(40, '2024-03-01'), condition('F03', '2023-06-01', '2024-01-01', false), barthel(80, '2025-02-01')])).toEqual([
      ['2024-03-01', '2025-02-02'],
    ]);
    // The re-assessment that ends it is the year's assessment; a home visit after the last day is not the episode's.
    const eps = evaluateResident(
      p,
      old,
      [barthel(40, '2024-03-01'), barthel(70, '2025-02-01'), visit('home-health-service', '2025-03-01')],
      '2025-12-31',
    );
    const figure = (code: string) =>
      countIndicator(
        p,
        p.indicators.find((i) => i.code === code)!,
        [{ person: old, episodes: eps }],
        ALL,
        '2025-12-31',
      ).map((c) => c.inNumerator);
    expect(figure('annual-assessment-rate')).toEqual([true]);
    expect(figure('home-service-rate')).toEqual([false]);
  });
});
