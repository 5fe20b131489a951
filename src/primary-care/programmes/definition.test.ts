/** Programme files: the shipped ones load; bad ones are refused naming the file and the line. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProgrammes, parseProgramme, programmesDir, versionOn } from './definition.js';
import { RuleFileError } from '../chronic/rule-file.js';

const SERVICE = 'https://yifang.health/fhir/CodeSystem/programme-service';

/** A small valid programme; each test breaks one thing in it. */
function programme(over: { versions?: unknown[]; items?: unknown[]; indicators?: unknown[]; system?: string } = {}) {
  const items = over.items ?? [
    { code: 'a', name: 'A', service: 'visit', from: '0d', to: '1m' },
    { code: 'b', name: 'B', service: 'visit', from: '1m', to: '3m' },
  ];
  const version = (v: string, from: string, to?: string) => ({
    version: v,
    effectiveFrom: from,
    ...(to ? { effectiveTo: to } : {}),
    source: 'norm',
    schedule: { cycle: 'episode', items },
    managed: { name: 'all on time', allItemsDelivered: true },
  });
  return {
    code: 'test',
    name: '测试',
    source: 'norm',
    entry: { anchor: 'birth', ageYears: { min: 0, max: 1 } },
    services: { visit: { name: 'visit', match: [{ resource: 'Encounter', system: over.system ?? SERVICE, codes: ['x'] }] } },
    versions: over.versions ?? [version('v1', '2017-01-01')],
    indicators: over.indicators ?? [
      {
        code: 'rate',
        name: 'rate',
        source: 'norm',
        denominator: { population: 'enrolled', text: 'all' },
        numerator: { where: [{ managed: true }], text: 'managed' },
        whenDenominatorZero: 'null',
      },
    ],
    _version: version,
  };
}

/** Pretty-prints (one field per line, so lines are meaningful) and returns the line holding `needle`. */
function textOf(p: Record<string, unknown>) {
  const { _version, ...rest } = p;
  void _version;
  const text = JSON.stringify(rest, null, 2);
  const lineOf = (needle: string, nth = 0) => {
    const lines = text.split('\n');
    const hits = lines.map((l, k) => (l.includes(needle) ? k + 1 : 0)).filter(Boolean);
    return hits[nth]!;
  };
  return { text, lineOf };
}

function refusal(text: string, opts: { complete?: boolean } = {}): RuleFileError {
  try {
    parseProgramme('config/programmes/test.json', text, opts);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleFileError);
    return err as RuleFileError;
  }
  throw new Error('the file was accepted');
}

describe('programme files', () => {
  it('loads the shipped programmes, each citing its norm, with one version in force on any day', () => {
    const all = loadProgrammes();
    const basic = ['child-0-6', 'diabetes', 'elderly-65', 'hypertension', 'maternal', 'severe-mental-disorders', 'tuberculosis'];
    // 血脂异常 (三高共管) and the opportunistic screenings cite their guidelines, not the 第三版 norm.
    const guidelines: Record<string, [RegExp, string]> = {
      dyslipidaemia: [/中国血脂管理指南（2023年）/, '2023'],
      'screening-stroke': [/脑卒中高危人群筛查和干预项目/, '2021'],
      'screening-copd': [/慢性阻塞性肺疾病基层诊疗指南/, '2018'],
      'screening-cancer': [/中国结直肠癌筛查与早诊早治指南/, '2020'],
    };
    expect(all.map((p) => p.code)).toEqual(expect.arrayContaining([...basic, ...Object.keys(guidelines)]));
    for (const p of all) {
      if (basic.includes(p.code)) {
        expect(p.source).toMatch(/国家基本公共卫生服务规范（第三版）/);
        // Hypertension and diabetes carry chronic care's rule sets as versions (2020, 2025).
        expect(versionOn(p, '2025-06-01').version).toBe(['hypertension', 'diabetes'].includes(p.code) ? '2020' : '第三版');
      }
      const guideline = guidelines[p.code];
      if (guideline) {
        expect(p.source).toMatch(guideline[0]);
        expect(versionOn(p, '2025-06-01').version).toBe(guideline[1]);
      }
      expect(p.indicators.length).toBeGreaterThan(0);
      for (const ind of p.indicators) {
        // From the programme's first version, or later for an indicator a later norm added (0–6 孤独症初筛率, 2022 norm: from 2023).
        expect(ind).toMatchObject({ version: '1' });
        expect(ind.effectiveFrom >= p.versions[0]!.effectiveFrom, `${p.code} ${ind.code}`).toBe(true);
        if (ind.effectiveFrom !== p.versions[0]!.effectiveFrom)
          expect(`${p.code} ${ind.code}`).toBe('child-0-6 autism-initial-screening-rate');
        expect(ind.cases.length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('accepts the small programme the tests break', () => {
    expect(parseProgramme('t.json', textOf(programme()).text).code).toBe('test');
  });

  it('refuses an unknown code system, naming the file and the line', () => {
    const { text, lineOf } = textOf(programme({ system: 'http://example.org/made-up' }));
    const err = refusal(text);
    expect(err.file).toBe('config/programmes/test.json');
    expect(err.line).toBe(lineOf('http://example.org/made-up'));
    expect(err.message).toMatch(/^config\/programmes\/test\.json:\d+: unknown code system "http:\/\/example\.org\/made-up"/);
  });

  it('knows the screening-result values (a risk level, a test result) and refuses a misspelt one', () => {
    const withValues = (valueSystem: string) => {
      const p = programme();
      p.services = {
        visit: {
          name: 'visit',
          match: [
            {
              resource: 'Observation',
              system: 'https://yifang.health/fhir/CodeSystem/programme-observation',
              codes: ['stroke-risk-assessment'],
              valueSystem,
              values: ['high-risk'],
            },
          ],
        },
      } as never;
      return textOf(p).text;
    };
    expect(parseProgramme('t.json', withValues('https://yifang.health/fhir/CodeSystem/screening-result')).code).toBe('test');
    expect(refusal(withValues('https://yifang.health/fhir/CodeSystem/screening-results')).message).toMatch(
      /unknown code system "https:\/\/yifang\.health\/fhir\/CodeSystem\/screening-results"/,
    );
  });

  it('refuses overlapping versions, naming the later one and the one it overlaps', () => {
    const p = programme();
    p.versions = [p._version('v1', '2017-01-01', '2020-12-31'), p._version('v2', '2020-06-01')];
    const { text, lineOf } = textOf(p);
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"effectiveFrom": "2020-06-01"'));
    expect(err.detail).toMatch(/version v2 \(from 2020-06-01\) overlaps version v1/);
  });

  it('refuses an open-ended version followed by another (they overlap)', () => {
    const p = programme();
    p.versions = [p._version('v2', '2021-01-01'), p._version('v1', '2017-01-01')];
    const err = refusal(textOf(p).text);
    expect(err.detail).toMatch(/version v2 \(from 2021-01-01\) overlaps version v1 .*2017-01-01 to open/);
  });

  it('refuses a gap between versions', () => {
    const p = programme();
    p.versions = [p._version('v1', '2017-01-01', '2020-12-31'), p._version('v2', '2021-03-01')];
    const { text, lineOf } = textOf(p);
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"effectiveFrom": "2021-03-01"'));
    expect(err.detail).toMatch(/gap between version v1 \(to 2020-12-31\) and version v2 \(from 2021-03-01\)/);
  });

  it('refuses a schedule with a gap between two items', () => {
    const { text, lineOf } = textOf(
      programme({
        items: [
          { code: 'a', name: 'A', service: 'visit', from: '0d', to: '1m' },
          { code: 'b', name: 'B', service: 'visit', from: '2m', to: '3m' },
        ],
      }),
    );
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"from": "2m"'));
    expect(err.detail).toMatch(/schedule gap: item "b" starts at 2m but "a" \(line \d+\) ends at 1m/);
  });

  it('refuses a schedule that does not start at 0, and items that overlap', () => {
    const late = refusal(textOf(programme({ items: [{ code: 'a', name: 'A', service: 'visit', from: '7d', to: '1m' }] })).text);
    expect(late.detail).toMatch(/schedule gap: the first item "a" starts at 7d, not at 0/);
    const overlap = refusal(
      textOf(
        programme({
          items: [
            { code: 'a', name: 'A', service: 'visit', from: '0d', to: '2m' },
            { code: 'b', name: 'B', service: 'visit', from: '1m', to: '3m' },
          ],
        }),
      ).text,
    );
    expect(overlap.detail).toMatch(/schedule overlap: item "b" starts at 1m but "a"/);
  });

  it('refuses a yearly schedule that leaves part of the year uncovered', () => {
    const p = programme({ items: [{ code: 'a', name: 'A', service: 'visit', from: '0m', to: '9m' }] });
    const v = p.versions[0] as { schedule: { cycle: string } };
    v.schedule.cycle = 'year';
    const { text, lineOf } = textOf(p);
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"to": "9m"'));
    expect(err.detail).toMatch(/schedule gap: a yearly schedule must end at 12m, "a" ends at 9m/);
  });

  it('refuses an indicator whose denominator can be zero without a rule for it', () => {
    const { text, lineOf } = textOf(
      programme({
        indicators: [
          {
            code: 'rate',
            name: 'rate',
            source: 'norm',
            denominator: { population: 'enrolled', text: 'all' },
            numerator: { where: [{ managed: true }], text: 'managed' },
          },
        ],
      }),
    );
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"denominator"'));
    expect(err.detail).toMatch(/indicator "rate": its denominator \(enrolled\) can be 0 and there is no rule for it/);
  });

  it('accepts a fixed estimate as a denominator without a zero rule (it cannot be 0)', () => {
    const p = programme({
      indicators: [
        {
          code: 'coverage',
          name: 'coverage',
          source: 'norm',
          denominator: { estimate: 1200, text: 'expected patients' },
          numerator: { where: [{ managed: true }], text: 'managed' },
        },
      ],
    });
    expect(parseProgramme('t.json', textOf(p).text).indicators[0]!.denominator.estimate).toBe(1200);
  });

  it('refuses references to things the programme does not define, and unknown fields', () => {
    const unknownItem = refusal(
      textOf(
        programme({
          indicators: [
            {
              code: 'r',
              name: 'r',
              source: 's',
              denominator: { population: 'started', text: 'x' },
              numerator: { where: [{ delivered: 'nope' }], text: 'y' },
              whenDenominatorZero: 'zero',
            },
          ],
        }),
      ).text,
    );
    expect(unknownItem.detail).toMatch(/unknown schedule item "nope"/);
    const p = programme() as Record<string, unknown>;
    p.colour = 'red';
    const { text, lineOf } = textOf(p);
    const err = refusal(text);
    expect(err.line).toBe(lineOf('"colour"'));
    expect(err.detail).toMatch(/unknown field "colour"/);
  });

  it('refuses activeStatuses that cannot apply or that would leave active diagnoses out', () => {
    const ICD = 'http://hl7.org/fhir/sid/icd-10';
    const byFact = (entry: Record<string, unknown>) => ({ ...programme(), entry: { anchor: 'fact', ...entry } });
    const facts = [{ resource: 'Condition', system: ICD, prefixes: ['F20'] }];
    expect(() =>
      parseProgramme('t.json', textOf(byFact({ facts, activeStatuses: ['active', 'remission', 'inactive'] })).text),
    ).not.toThrow();
    const byAge = textOf({ ...programme(), entry: { anchor: 'birth', activeStatuses: ['active'] } });
    const a = refusal(byAge.text);
    expect(a.line).toBe(byAge.lineOf('"activeStatuses"'));
    expect(a.detail).toMatch(/activeStatuses needs an entry opened by a Condition/);
    const noActive = textOf(byFact({ facts, activeStatuses: ['remission'] }));
    expect(refusal(noActive.text).detail).toMatch(/must keep "active" diagnoses enrolled/);
    expect(refusal(textOf(byFact({ facts, activeStatuses: ['active', 'remission', 'remission'] })).text).detail).toMatch(
      /"remission" appears twice/,
    );
    // Not a FHIR condition-clinical code.
    expect(refusal(textOf(byFact({ facts, activeStatuses: ['active', 'stable'] })).text).line).toBe(
      textOf(byFact({ facts, activeStatuses: ['active', 'stable'] })).lineOf('"stable"'),
    );
  });

  it('refuses measuredBy asOf on services counted within the period (only an episode can be followed to asOf)', () => {
    const ind = (where: unknown[]) => ({
      code: 'r',
      name: 'r',
      source: 's',
      denominator: { population: 'started', text: 'x' },
      numerator: { where, text: 'y' },
      whenDenominatorZero: 'null',
    });
    const ok = [{ services: 'visit', min: 1, in: 'episode', measuredBy: 'asOf' }];
    expect(() => parseProgramme('t.json', textOf(programme({ indicators: [ind(ok)] })).text)).not.toThrow();
    const bad = textOf(programme({ indicators: [ind([{ services: 'visit', min: 1, measuredBy: 'asOf' }])] }));
    const err = refusal(bad.text);
    expect(err.detail).toMatch(/needs "in": "episode"/);
    expect(
      refusal(textOf(programme({ indicators: [ind([{ services: 'visit', min: 1, in: 'episode', measuredBy: 'later' }])] })).text),
    ).toBeInstanceOf(RuleFileError);
  });

  it('refuses "within" on services counted in the period, and endWhen on an entry by age, naming the line', () => {
    const base = JSON.parse(fs.readFileSync(path.join(programmesDir, 'child-development.json'), 'utf8'));
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const broken = (change: (p: any) => void) => {
      const p = structuredClone(base);
      change(p);
      const text = JSON.stringify(p, null, 2);
      return { err: refusal(text), lines: text.split('\n') };
    };
    const ind = base.indicators.findIndex((i: { code: string }) => i.code === 'follow-up-rate');
    const inPeriod = broken((p) => (p.indicators[ind].numerator.where[0].within = '30d'));
    expect(inPeriod.err.file).toBe('config/programmes/test.json');
    expect(inPeriod.err.detail).toMatch(/"within" counts from the episode's start: it needs "in": "episode"/);
    expect(inPeriod.lines[inPeriod.err.line - 1]).toMatch(/^\s*\{$/);
    expect(inPeriod.lines[inPeriod.err.line]).toMatch(/"services": "development-follow-up"/);
    expect(broken((p) => (p.indicators[ind].numerator.where[0].within = '30 days')).err.detail).toMatch(/offset such as 28d/);
    // Counted in the episode it loads.
    const ok = structuredClone(base);
    Object.assign(ok.indicators[ind].numerator.where[0], { in: 'episode', within: '2m' });
    const loaded = parseProgramme('config/programmes/test.json', JSON.stringify(ok, null, 2));
    expect(loaded.indicators[ind]!.numerator.where[0]).toMatchObject({ in: 'episode', within: '2m' });
    // endWhen: an entry by age ends by age; matchers name known systems.
    const child = JSON.parse(fs.readFileSync(path.join(programmesDir, 'child-0-6.json'), 'utf8'));
    child.entry.endWhen = {
      facts: [{ resource: 'Observation', system: 'https://yifang.health/fhir/CodeSystem/programme-observation', codes: ['x'] }],
    };
    const childText = JSON.stringify(child, null, 2);
    const byAge = refusal(childText);
    expect(byAge.detail).toMatch(/endWhen needs an entry anchored on a fact/);
    expect(byAge.line).toBe(childText.split('\n').findIndex((l) => l.includes('"endWhen"')) + 1);
    const unknown = broken((p) => (p.entry.endWhen = { facts: [{ resource: 'Observation', system: 'urn:nowhere', codes: ['x'] }] }));
    expect(unknown.err.detail).toMatch(/unknown code system "urn:nowhere"/);
  });

  it('refuses implicit enrolment but on an entry by age with a yearly schedule, naming the line', () => {
    const read = (f: string) => JSON.parse(fs.readFileSync(path.join(programmesDir, f), 'utf8'));
    const stroke = read('screening-stroke.json');
    expect(stroke.entry).toMatchObject({ anchor: 'birth', implicit: true });
    expect(parseProgramme('config/programmes/test.json', JSON.stringify(stroke, null, 2)).entry.implicit).toBe(true);
    // A schedule of the episode (0–6 checks by age in months) has no yearly items to list from the person table.
    const child = read('child-0-6.json');
    child.entry.implicit = true;
    const childText = JSON.stringify(child, null, 2);
    const byEpisode = refusal(childText);
    expect(byEpisode.detail).toMatch(/implicit enrolment needs a yearly schedule/);
    expect(byEpisode.line).toBe(childText.split('\n').findIndex((l) => l.includes('"implicit"')) + 1);
    // An entry by record: who is enrolled depends on records, so everyone of an age is not.
    const lipid = read('dyslipidaemia.json');
    lipid.entry.implicit = true;
    expect(refusal(JSON.stringify(lipid, null, 2)).detail).toMatch(/implicit enrolment needs an entry by age/);
  });

  it('refuses an entry age on a fact-anchored entry without the day it is judged on, with neither bound, or ageOn without an age', () => {
    const base = JSON.parse(fs.readFileSync(path.join(programmesDir, 'hypertension.json'), 'utf8'));
    expect(base.entry).toMatchObject({ ageYears: { min: 35 }, ageOn: 'asOf' });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const broken = (change: (p: any) => void) => {
      const p = structuredClone(base);
      change(p);
      const text = JSON.stringify(p, null, 2);
      return { err: refusal(text), lineOf: (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1 };
    };
    const noDay = broken((p) => delete p.entry.ageOn);
    expect(noDay.err.detail).toMatch(/ageYears on an entry anchored on a fact needs "ageOn"/);
    expect(noDay.err.line).toBe(noDay.lineOf('"ageYears"'));
    // An upper age ends the episode at that birthday (child-development: 7); neither bound, or max not above min, is refused.
    const none = broken((p) => (p.entry.ageYears = {}));
    expect(none.err.detail).toMatch(/needs "min" or "max"/);
    expect(none.err.line).toBe(none.lineOf('"ageYears"'));
    expect(broken((p) => (p.entry.ageYears = { min: 35, max: 35 })).err.detail).toMatch(/max 35 is not above min 35/);
    const upper = structuredClone(base);
    upper.entry.ageYears = { min: 35, max: 80 };
    expect(parseProgramme('config/programmes/test.json', JSON.stringify(upper, null, 2)).entry.ageYears).toEqual({ min: 35, max: 80 });
    const maxNoDay = broken((p) => {
      p.entry.ageYears = { max: 7 };
      delete p.entry.ageOn;
    });
    expect(maxNoDay.err.detail).toMatch(/needs "ageOn"/);
    expect(broken((p) => delete p.entry.ageYears).err.detail).toMatch(/ageOn needs an entry anchored on a fact with "ageYears"/);
    expect(broken((p) => (p.entry.ageOn = 'entry')).err.detail).toMatch(/ageOn/);
    // A birth-anchored entry takes no ageOn either.
    const child = JSON.parse(fs.readFileSync(path.join(programmesDir, 'child-0-6.json'), 'utf8'));
    child.entry.ageOn = 'asOf';
    expect(refusal(JSON.stringify(child, null, 2)).detail).toMatch(/ageOn needs an entry anchored on a fact/);
    // Diabetes enters on an A10 prescription: MedicationRequest is a resource a matcher may name, ATC a known system.
    const dm = JSON.parse(fs.readFileSync(path.join(programmesDir, 'diabetes.json'), 'utf8'));
    expect(dm.entry.facts[1]).toMatchObject({ resource: 'MedicationRequest', system: 'http://www.whocc.no/atc', prefixes: ['A10'] });
    dm.entry.facts[1].system = 'http://www.whocc.no/atc-ddd';
    expect(refusal(JSON.stringify(dm, null, 2)).detail).toMatch(/unknown code system "http:\/\/www\.whocc\.no\/atc-ddd"/);
    dm.entry.facts[1] = { ...dm.entry.facts[1], system: 'http://www.whocc.no/atc', resource: 'MedicationStatement' };
    expect(refusal(JSON.stringify(dm, null, 2)).detail).toMatch(/resource/);
  });

  it('refuses numeric targets, follow-up chains, services with a measure and flags that do not fit together', () => {
    const base = JSON.parse(fs.readFileSync(path.join(programmesDir, 'hypertension.json'), 'utf8'));
    expect(() => parseProgramme('hypertension.json', JSON.stringify(base))).not.toThrow();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const broken = (change: (p: any) => void) => {
      const p = structuredClone(base);
      change(p);
      return refusal(JSON.stringify(p, null, 2));
    };
    expect(broken((p) => (p.controlled.values = ['x'])).detail).toMatch(/either "values" \(coded\) or "byTargets"/);
    expect(broken((p) => delete p.versions[1].targets).detail).toMatch(/version 2025: controlled by targets, but no "targets"/);
    expect(broken((p) => (p.versions[0].targets.bands[3].whenFlags = ['gout'])).detail).toMatch(/unknown flag "gout"/);
    expect(broken((p) => (p.versions[0].targets.bands[0].ageYears = { min: 64, max: 10 })).detail).toMatch(/max 10 is below min 64/);
    expect(broken((p) => (p.versions[0].targets.bands[0].first = p.versions[0].targets.bands[0].all)).detail).toMatch(
      /either "all" or "first"/,
    );
    expect(broken((p) => (p.versions[0].targets.bands[0].all[0].reading = '8480-6')).detail).toMatch(/expected "system\|code"/);
    expect(broken((p) => (p.versions[0].managed.followUps.service = 'visit')).detail).toMatch(/unknown service "visit"/);
    expect(broken((p) => (p.services['follow-up'].withMeasure = 'weight')).detail).toMatch(/unknown measure "weight"/);
    expect(broken((p) => (p.controlled.atLastService = 'visit')).detail).toMatch(/unknown service "visit"/);
    expect(broken((p) => (p.flags.ckd.scope = 'household')).detail).toMatch(/scope/);
    expect(broken((p) => delete p.services['follow-up'].withMeasure).detail).toMatch(/linkedBy needs "withMeasure"/);
    expect(broken((p) => (p.services['follow-up'].match[0].resource = 'Procedure')).detail).toMatch(
      /needs a service matched on Encounters/,
    );
    expect(broken((p) => (p.measures.bp.plausible.ranges['http://loinc.org|8480-6'] = [300, 50])).detail).toMatch(/: 50 is below 300/);
    expect(broken((p) => (p.versions[1].schedule.items[0].code = 'next-follow-up')).detail).toMatch(
      /"next-follow-up" is the follow-up chain's next/,
    );
    // What a follow-up's own record says (the follow-up form) and which Encounter statuses count.
    const EXT = 'https://yifang.health/fhir/StructureDefinition/chronic-follow-up';
    const f0 = (p: { versions: { managed: { followUps: Record<string, any> } }[] }) => p.versions[0]!.managed.followUps; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(broken((p) => (p.services['follow-up'].match[1].codes = ['home'])).detail).toMatch(
      /codes or prefixes, or "anyCode": true \(not both\)/,
    );
    expect(broken((p) => delete p.services['follow-up'].match[1].anyCode).detail).toMatch(/codes or prefixes, or "anyCode"/);
    expect(broken((p) => (p.services['follow-up'].orRecorded[0].system = `${EXT}#mood`)).detail).toMatch(/unknown code system ".*#mood"/);
    expect(broken((p) => (p.services['follow-up'].orRecorded[0].resource = 'Observation')).detail).toMatch(
      /the service is matched on Encounter, Encounter: a matcher on Observation never applies/,
    );
    expect(
      broken((p) => {
        delete p.services['follow-up'].withMeasure;
        delete p.services['follow-up'].linkedBy;
      }).detail,
    ).toMatch(/orRecorded needs "withMeasure"/);
    expect(broken((p) => (p.services['follow-up'].statuses = ['cancelled'])).detail).toMatch(/statuses/);
    expect(broken((p) => (p.services['follow-up'].statuses = ['entered-in-error'])).detail).toMatch(/statuses/);
    expect(broken((p) => (f0(p).urgent.whenRecorded[0].resource = 'Condition')).detail).toMatch(
      /a follow-up's record is a Encounter or Encounter: a matcher on Condition never applies/,
    );
    expect(broken((p) => (f0(p).findings[1].whenRecorded[0].system = 'http://example.org/reaction')).detail).toMatch(
      /unknown code system "http:\/\/example\.org\/reaction"/,
    );
    expect(broken((p) => (f0(p).findings[0].intervalDays = -1)).detail).toMatch(/intervalDays/);
    expect(
      broken((p) => {
        delete f0(p).urgent.when;
        delete f0(p).urgent.whenRecorded;
      }).detail,
    ).toMatch(/urgent needs "when" \(readings\) or "whenRecorded" \(the record\)/);
    const services = JSON.parse(fs.readFileSync(path.join(programmesDir, 'severe-mental-disorders.json'), 'utf8'));
    const visit = Object.keys(services.services)[0]!;
    services.services[visit].match[0] = { ...services.services[visit].match[0], resource: 'Procedure' };
    services.services[visit].statuses = ['finished'];
    expect(refusal(JSON.stringify(services, null, 2)).detail).toMatch(/statuses \(encounter-status\) need a service matched on Encounters/);
    // Coded control (the shipped programmes) takes no targets.
    const mental = JSON.parse(fs.readFileSync(path.join(programmesDir, 'severe-mental-disorders.json'), 'utf8'));
    mental.versions[0].targets = base.versions[0].targets;
    expect(refusal(JSON.stringify(mental, null, 2)).detail).toMatch(/targets, but "controlled" is not "byTargets"/);
  });

  describe('indicator versions and worked examples', () => {
    const visit = (pid: string, id: string, day: string) => ({
      resourceType: 'Encounter',
      id,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      type: [{ coding: [{ system: SERVICE, code: 'x' }] }],
      subject: { reference: `Patient/${pid}` },
      period: { start: day },
    });
    const example = (over: Record<string, unknown> = {}) => ({
      name: 'one child seen',
      period: { from: '2025-01-01', to: '2025-12-31' },
      asOf: '2025-12-31',
      residents: [{ id: 'a', birthDate: '2025-01-01', gender: 'female', records: [visit('a', 'a1', '2025-02-01')] }],
      expect: { numerator: 1, denominator: 1, value: 100 },
      ...over,
    });
    const rate = (over: Record<string, unknown> = {}) => ({
      code: 'rate',
      version: 'v1',
      effectiveFrom: '2017-01-01',
      name: 'rate',
      source: 'norm',
      denominator: { population: 'enrolled', text: 'all' },
      numerator: { where: [{ managed: true }], text: 'managed' },
      whenDenominatorZero: 'null',
      cases: [example()],
      ...over,
    });

    it('accepts versions of one indicator that adjoin, each with its examples', () => {
      const p = programme({
        indicators: [
          rate({ effectiveTo: '2024-12-31', cases: [example({ period: { from: '2024-01-01', to: '2024-12-31' }, asOf: '2024-12-31' })] }),
          rate({ version: 'v2', effectiveFrom: '2025-01-01' }),
        ],
      });
      const parsed = parseProgramme('t.json', textOf(p).text, { complete: true });
      expect(parsed.indicators.map((i) => `${i.version} ${i.effectiveFrom}–${i.effectiveTo ?? ''} ${i.cases.length}`)).toEqual([
        'v1 2017-01-01–2024-12-31 1',
        'v2 2025-01-01– 1',
      ]);
    });

    it('refuses overlapping versions of an indicator, naming the later one and the one it overlaps', () => {
      const p = programme({ indicators: [rate({ effectiveTo: '2020-12-31' }), rate({ version: 'v2', effectiveFrom: '2020-06-01' })] });
      const { text, lineOf } = textOf(p);
      const err = refusal(text);
      expect(err.line).toBe(lineOf('"effectiveFrom": "2020-06-01"'));
      expect(err.detail).toMatch(
        /indicator "rate" version v2 \(from 2020-06-01\) overlaps version v1 \(line \d+, 2017-01-01 to 2020-12-31\)/,
      );
      // An open-ended version followed by another overlaps it too, and one version name twice is refused.
      const open = refusal(textOf(programme({ indicators: [rate(), rate({ version: 'v2', effectiveFrom: '2021-01-01' })] })).text);
      expect(open.detail).toMatch(/indicator "rate" version v2 \(from 2021-01-01\) overlaps version v1 .*2017-01-01 to open/);
      const twice = refusal(
        textOf(programme({ indicators: [rate({ effectiveTo: '2020-12-31' }), rate({ effectiveFrom: '2021-01-01' })] })).text,
      );
      expect(twice.detail).toMatch(/indicator "rate" version v1 appears twice/);
    });

    it('refuses a gap between versions of an indicator', () => {
      const p = programme({ indicators: [rate({ effectiveTo: '2020-12-31' }), rate({ version: 'v2', effectiveFrom: '2021-03-01' })] });
      const { text, lineOf } = textOf(p);
      const err = refusal(text);
      expect(err.line).toBe(lineOf('"effectiveFrom": "2021-03-01"'));
      expect(err.detail).toMatch(/indicator "rate": gap between version v1 \(to 2020-12-31\) and version v2 \(from 2021-03-01\)/);
    });

    it('refuses, at start, an indicator without worked examples or without its version', () => {
      const bare = textOf(programme({ indicators: [rate({ cases: undefined })] }));
      const err = refusal(bare.text, { complete: true });
      expect(err.line).toBe(bare.lineOf('"code": "rate"'));
      expect(err.detail).toMatch(/indicator "rate" version v1: no worked examples/);
      expect(refusal(textOf(programme({ indicators: [rate({ cases: [] })] })).text, { complete: true }).detail).toMatch(
        /no worked examples/,
      );
      expect(refusal(textOf(programme({ indicators: [rate({ version: undefined })] })).text, { complete: true }).detail).toMatch(
        /indicator "rate": no "version"/,
      );
      // The loader reads config/programmes so: the server does not start.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-programmes-'));
      try {
        fs.writeFileSync(path.join(dir, 'b.json'), bare.text);
        expect(() => loadProgrammes(dir)).toThrow(/b\.json:\d+: indicator "rate" version v1: no worked examples/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a malformed worked example, naming its line', () => {
      const missing = example() as Record<string, unknown>;
      delete missing.expect;
      const noExpect = refusal(textOf(programme({ indicators: [rate({ cases: [missing] })] })).text);
      expect(noExpect.detail).toMatch(/^indicators\.0\.cases\.0\.expect: Required/);

      const unknown = textOf(programme({ indicators: [rate({ cases: [example({ expected: 1 })] })] }));
      const err = refusal(unknown.text);
      expect(err.line).toBe(unknown.lineOf('"expected"'));
      expect(err.detail).toMatch(/unknown field "expected" in indicators\.0\.cases\.0/);

      const notFhir = refusal(
        textOf(
          programme({
            indicators: [rate({ cases: [example({ residents: [{ id: 'a', records: [{ resourceType: 'Patient', id: 'a' }] }] })] })],
          }),
        ).text,
      );
      expect(notFhir.detail).toMatch(/resourceType/);

      const other = textOf(
        programme({ indicators: [rate({ cases: [example({ residents: [{ id: 'a', records: [visit('b', 'b1', '2025-02-01')] }] })] })] }),
      );
      const wrongPatient = refusal(other.text);
      expect(wrongPatient.line).toBe(other.lineOf('"subject"'));
      expect(wrongPatient.detail).toMatch(
        /indicator "rate" case "one child seen": record Encounter\/b1 must name its resident in subject\.reference \("Patient\/a"\)/,
      );

      const figures = refusal(
        textOf(programme({ indicators: [rate({ cases: [example({ expect: { numerator: 2, denominator: 1, value: 100 } })] })] })).text,
      );
      expect(figures.detail).toMatch(/the numerator \(2\) is above the denominator \(1\)/);
      const nullValue = refusal(
        textOf(programme({ indicators: [rate({ cases: [example({ expect: { numerator: 0, denominator: 1, value: null } })] })] })).text,
      );
      expect(nullValue.detail).toMatch(/a value of null needs a denominator of 0/);

      // A period judged after its version ended belongs to the next version's examples.
      const late = refusal(
        textOf(programme({ indicators: [rate({ effectiveTo: '2024-12-31' }), rate({ version: 'v2', effectiveFrom: '2025-01-01' })] })).text,
      );
      expect(late.detail).toMatch(/case "one child seen": judged on 2025-12-31 .* outside version v1 \(2017-01-01 to 2024-12-31\)/);
      const backwards = refusal(
        textOf(programme({ indicators: [rate({ cases: [example({ period: { from: '2025-12-31', to: '2025-01-01' } })] })] })).text,
      );
      expect(backwards.detail).toMatch(/the period ends \(2025-01-01\) before it starts \(2025-12-31\)/);
    });
  });

  it('refuses to load a directory holding a bad file, naming it (the server does not start)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-programmes-'));
    try {
      fs.copyFileSync(path.join(programmesDir, 'elderly-65.json'), path.join(dir, 'a.json'));
      fs.writeFileSync(path.join(dir, 'b.json'), textOf(programme({ system: 'urn:oid:9.9.9' })).text);
      expect(() => loadProgrammes(dir)).toThrow(/b\.json:\d+: unknown code system "urn:oid:9\.9\.9"/);
      // Two files with one code.
      fs.writeFileSync(path.join(dir, 'b.json'), fs.readFileSync(path.join(programmesDir, 'elderly-65.json')));
      expect(() => loadProgrammes(dir)).toThrow(/b\.json:1: programme code "elderly-65" is already used by .*a\.json/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
