/**
 * Indicator results against a straightforward reference computation: simulate a small district,
 * import its FHIR NDJSON, let the processors derive everything, then recompute each indicator
 * directly from the raw resources (own loops; only the rule functions are shared) and compare.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, beforeAll } from 'vitest';
import ExcelJS from 'exceljs';
import { findChineseFont } from '../../shared/report-file.js';
import { describeEachStore } from '../../app/testing.js';
import { simulate } from '../../simulator/index.js';
import { importPath } from '../../fhir/import.js';
import { addMonths } from '../immunization/schedule.js';
import { atTarget, comorbiditiesOf, nextFollowUp, onTime, ruleSetFor, type PastVisit } from '../chronic/rules.js';
import { loadChronicRuleSets } from '../chronic/rule-sets.js';
import { ageOn, todayInChina } from '../../shared/dates.js';
import { recomputeAll } from '../chronic/store.js';
import { loadSchedules, childScheduleFor } from '../immunization/schedule.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const readNdjson = (dir: string, type: string): Json[] =>
  fs.existsSync(path.join(dir, `${type}.ndjson`))
    ? fs
        .readFileSync(path.join(dir, `${type}.ndjson`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];

const sets = loadChronicRuleSets();
const schedules = loadSchedules();
const VISIT_TYPE = 'https://yifang.health/fhir/CodeSystem/visit-type';

/** The reference: per disease, per group (team), the three counts. */
function reference(dir: string, period: { from: string; to: string }, today: string, rejectedPatientLines: Set<number>) {
  // Patients the import rejected (the simulator writes some bad ID numbers on purpose) are
  // still patients to their encounters, but with nothing known about them.
  const patients = new Map(
    readNdjson(dir, 'Patient').map((p, k) => [p.id as string, rejectedPatientLines.has(k + 1) ? ({ id: p.id } as Json) : p]),
  );
  for (const e of readNdjson(dir, 'Encounter'))
    if (!patients.has(e.subject.reference.slice(8))) patients.set(e.subject.reference.slice(8), { id: e.subject.reference.slice(8) });
  const teamOfDoctor = new Map<string, string>();
  for (const t of readNdjson(dir, 'CareTeam').sort((a, b) => (a.id < b.id ? -1 : 1)))
    for (const m of t.participant) {
      const d = m.member.reference.slice(13);
      if (!teamOfDoctor.has(d)) teamOfDoctor.set(d, t.id);
    }
  const conds = new Map<string, Json[]>();
  for (const c of readNdjson(dir, 'Condition')) {
    const pid = c.subject.reference.slice(8);
    if (c.clinicalStatus?.coding?.[0]?.code !== 'active' || c.verificationStatus?.coding?.[0]?.code !== 'confirmed') continue;
    conds.set(pid, [...(conds.get(pid) ?? []), c]);
  }
  const a10 = new Map<string, string[]>();
  for (const m of readNdjson(dir, 'MedicationRequest')) {
    const atc = m.medicationCodeableConcept?.coding?.find((c: Json) => c.system === 'http://www.whocc.no/atc')?.code;
    if (atc?.startsWith('A10') && ['active', 'completed', 'on-hold'].includes(m.status))
      a10.set(m.subject.reference.slice(8), [...(a10.get(m.subject.reference.slice(8)) ?? []), m.authoredOn.slice(0, 10)]);
  }
  const obsByEnc = new Map<string, Json[]>();
  for (const o of readNdjson(dir, 'Observation'))
    if (o.encounter) obsByEnc.set(o.encounter.reference.slice(10), [...(obsByEnc.get(o.encounter.reference.slice(10)) ?? []), o]);
  const visits = new Map<string, Json[]>();
  for (const e of readNdjson(dir, 'Encounter')) {
    const vt = e.type?.flatMap((t: Json) => t.coding ?? []).find((c: Json) => c.system === VISIT_TYPE)?.code;
    if (vt !== 'follow-up' && vt !== 'home-visit') continue;
    const pid = e.subject.reference.slice(8);
    visits.set(pid, [...(visits.get(pid) ?? []), e]);
  }
  const result: Record<'htn' | 'dm', Map<string, { d: number; std: number; ctl: number }>> = { htn: new Map(), dm: new Map() };
  const rulesNow = ruleSetFor(sets, today);
  const rulesEnd = ruleSetFor(sets, period.to);
  for (const [pid, p] of patients) {
    const icds: Json[] = conds.get(pid) ?? [];
    const codes = icds.map((c) => c.code.coding[0].code as string);
    for (const disease of ['htn', 'dm'] as const) {
      const dx = icds.filter((c) =>
        (disease === 'htn' ? rulesNow.registry.hypertensionIcdPrefixes : rulesNow.registry.diabetesIcdPrefixes).some((x) =>
          c.code.coding[0].code.startsWith(x),
        ),
      );
      const rx = disease === 'dm' ? (a10.get(pid) ?? []) : [];
      if (!dx.length && !rx.length) continue;
      if (disease === 'htn' && p.birthDate && ageOn(p.birthDate, today) < rulesNow.registry.hypertensionMinAge) continue;
      const diagnosed = [...dx.map((c) => (c.onsetDateTime ?? c.recordedDate).slice(0, 10)), ...rx].sort()[0]!;
      const mine = (visits.get(pid) ?? [])
        .filter((e) => e.period.start.slice(0, 10) >= diagnosed)
        .sort((a, b) => a.period.start.slice(0, 10).localeCompare(b.period.start.slice(0, 10)) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const history: PastVisit[] = [];
      let lastDue: string | undefined;
      const inPeriod: { controlled: boolean | undefined; onTime: boolean }[] = [];
      let doctor: string | undefined;
      for (const e of mine) {
        const date = e.period.start.slice(0, 10);
        const r: Json = {};
        for (const o of obsByEnc.get(e.id) ?? []) {
          const code = o.code.coding[0].code;
          if (code === '85354-9') {
            r.sbp = o.component[0].valueQuantity.value;
            r.dbp = o.component[1].valueQuantity.value;
          }
          if (code === '1558-6') r.fpg = o.valueQuantity.value;
          if (code === '2339-0') r.glucose = o.valueQuantity.value;
          if (code === '4548-4') r.hba1c = o.valueQuantity.value;
        }
        if (disease === 'htn' ? r.sbp === undefined : r.fpg === undefined && r.glucose === undefined && r.hba1c === undefined) continue;
        const rules = ruleSetFor(sets, date);
        // Unknown birth date: the general adult targets (age 60 stands for 'an adult under 65').
        const facts = { age: p.birthDate ? ageOn(p.birthDate, date) : 60, comorbidities: comorbiditiesOf(codes, rules) };
        const plan = nextFollowUp(history, { date, disease, readings: r }, facts, rules);
        // Cross-check: the plan's control flag is the target test itself.
        expect(plan.controlled).toBe(atTarget(disease, r, facts, rules));
        if (date >= period.from && date <= period.to) inPeriod.push({ controlled: plan.controlled, onTime: onTime(lastDue, date, rules) });
        history.push({ date, controlled: plan.controlled, decision: plan.decision });
        lastDue = plan.dueDate;
        doctor = e.participant?.[0]?.individual?.reference?.slice(13);
      }
      if (!inPeriod.length) continue;
      const group = (doctor && teamOfDoctor.get(doctor)) ?? '(none)';
      const g = result[disease]!.get(group) ?? { d: 0, std: 0, ctl: 0 };
      g.d++;
      if (inPeriod.length >= rulesEnd.followUp.minFollowUpsPerYear && inPeriod.every((v) => v.onTime)) g.std++;
      if (inPeriod.at(-1)!.controlled === true) g.ctl++;
      result[disease]!.set(group, g);
    }
  }
  // Vaccine coverage, birth cohort of the period's year.
  const child = childScheduleFor(schedules, period.to);
  const doses = new Map<string, string[]>();
  for (const i of readNdjson(dir, 'Immunization')) {
    if (i.status !== 'completed') continue;
    const code = i.vaccineCode.coding.find((c: Json) => c.system === 'https://yifang.health/fhir/CodeSystem/vaccine')?.code;
    if (code && i.occurrenceDateTime.slice(0, 10) <= period.to)
      doses.set(`${i.patient.reference.slice(8)}|${code}`, [
        ...(doses.get(`${i.patient.reference.slice(8)}|${code}`) ?? []),
        i.occurrenceDateTime,
      ]);
  }
  const vaccine = new Map<string, { d: number; n: number }>();
  for (const [pid, p] of patients) {
    if (!p.birthDate || p.deceasedBoolean || p.deceasedDateTime || p.birthDate.slice(0, 4) !== period.from.slice(0, 4)) continue;
    for (const d of child.doses) {
      if (addMonths(p.birthDate, d.ageMonths) > period.to) continue;
      const n = [d.vaccine, ...(child.vaccines[d.vaccine]!.alsoCounts ?? [])].reduce(
        (s, v) => s + (doses.get(`${pid}|${v}`)?.length ?? 0),
        0,
      );
      const k = `${d.vaccine}-${d.dose}`;
      const t = vaccine.get(k) ?? { d: 0, n: 0 };
      t.d++;
      if (n >= d.dose) t.n++;
      vaccine.set(k, t);
    }
  }
  return { ...result, vaccine };
}

describeEachStore('indicators match a reference computation over the simulated district', (server) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yifang-ind-'));
  const rejected = new Set<number>();
  beforeAll(async () => {
    await simulate({ seed: 11, population: 1000, start: '2025-01-01', days: 365, outDir: dir });
    const stats = await importPath(server().repo, path.join(dir, 'fhir'));
    for (const e of stats.errors) {
      expect(e.file).toMatch(/Patient\.ndjson$/);
      rejected.add(e.line ?? 0);
    }
    await server().processors.drain();
  }, 170_000);

  it('hypertension and diabetes 规范管理率 and 控制率 by team, and vaccine coverage by cohort', async () => {
    const period = { from: '2025-01-01', to: '2025-12-31' };
    const ref = reference(path.join(dir, 'fhir'), period, todayInChina(), rejected);
    const res = await server().api('/api/indicators?period=2025&groupBy=team');
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      values: { indicator: string; group: string; population?: string; numerator: number; denominator: number }[];
    };
    for (const disease of ['htn', 'dm'] as const) {
      const expectedStd = [...ref[disease].entries()]
        .map(([group, g]) => ({ group, numerator: g.std, denominator: g.d }))
        .sort((a, b) => a.group.localeCompare(b.group));
      const expectedCtl = [...ref[disease].entries()]
        .map(([group, g]) => ({ group, numerator: g.ctl, denominator: g.d }))
        .sort((a, b) => a.group.localeCompare(b.group));
      const got = (code: string) =>
        body.values
          .filter((v) => v.indicator === code)
          .map((v) => ({ group: v.group, numerator: v.numerator, denominator: v.denominator }));
      expect(got(`${disease}-standard-management`)).toEqual(expectedStd);
      expect(got(`${disease}-control`)).toEqual(expectedCtl);
      expect(expectedStd.reduce((s, g) => s + g.denominator, 0)).toBeGreaterThan(20);
      // The district's figures come from the programme engine (issue #21): the reference's sums over the teams.
      const sum = (rows: { numerator: number; denominator: number }[]) => ({
        group: 'all',
        numerator: rows.reduce((s, g) => s + g.numerator, 0),
        denominator: rows.reduce((s, g) => s + g.denominator, 0),
      });
      const district = (await (
        await server().api(`/api/indicators?period=2025&indicator=${disease}-standard-management,${disease}-control`)
      ).json()) as typeof body;
      const inDistrict = (code: string) =>
        district.values
          .filter((v) => v.indicator === code)
          .map((v) => ({ group: v.group, numerator: v.numerator, denominator: v.denominator }));
      expect(inDistrict(`${disease}-standard-management`)).toEqual([sum(expectedStd)]);
      expect(inDistrict(`${disease}-control`)).toEqual([sum(expectedCtl)]);
    }
    const vac = body.values
      .filter((v) => v.indicator === 'vaccine-coverage')
      .map((v) => ({ dose: v.population, n: v.numerator, d: v.denominator }));
    const expectedVac = [...ref.vaccine.entries()]
      .map(([dose, t]) => ({ dose, n: t.n, d: t.d }))
      .sort((a, b) => a.dose!.localeCompare(b.dose!));
    expect(vac.sort((a, b) => a.dose!.localeCompare(b.dose!))).toEqual(expectedVac);
    expect(expectedVac.length).toBeGreaterThan(3);
  });

  it('names every group in words, and gives the same figures as a workbook and a PDF', async () => {
    const byTeam = (await (await server().api('/api/indicators?period=2025&groupBy=team&indicator=htn-control')).json()) as {
      values: { group: string; groupName: string }[];
    };
    expect(byTeam.values.length).toBeGreaterThan(1);
    // Teams are named on their CareTeam (…医生团队); a resident with no team is 未分配.
    for (const v of byTeam.values) expect(v.groupName).toMatch(v.group === '(none)' ? /^未分配$/ : /团队/);
    const byDoctor = (await (await server().api('/api/indicators?period=2025&groupBy=doctor&indicator=htn-control')).json()) as {
      values: { group: string; groupName: string }[];
    };
    expect(
      byDoctor.values.filter((v) => v.group !== '(none)').every((v) => v.groupName !== v.group && /^\p{Script=Han}+$/u.test(v.groupName)),
    ).toBe(true);
    const total = (await (await server().api('/api/indicators?period=2025&indicator=htn-control,dm-control')).json()) as {
      values: { indicator: string; groupName: string; numerator: number; denominator: number; value: number | null }[];
    };
    expect(total.values.map((v) => v.groupName)).toEqual(['全区', '全区']);

    const res = await server().api('/api/indicators/file?period=2025&indicator=htn-control,dm-control&format=xlsx');
    expect(res.status).toBe(200);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(await res.arrayBuffer());
    expect(book.worksheets.length).toBe(3);
    expect(book.worksheets[2]!.name).toBe('指标定义');
    const sheet = book.worksheets[0]!;
    // Title, period, heading, blank, header, then the district's row.
    expect((sheet.getRow(5).values as unknown[]).slice(1)).toEqual(['全区', '分子', '分母', '率（%）', '是否达标']);
    const htn = total.values.find((v) => v.indicator === 'htn-control')!;
    expect((sheet.getRow(6).values as unknown[]).slice(1, 5)).toEqual(['全区', htn.numerator, htn.denominator, htn.value]);
    const pdf = await server().api('/api/indicators/file?period=2025&groupBy=street&format=pdf');
    if (findChineseFont())
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
    else expect(pdf.status).toBe(503);
  });

  it('a full recompute (yifang chronic recompute) gives the same figures', async () => {
    const before = await (await server().api('/api/indicators?period=2025&groupBy=street')).json();
    const reg = await server().db.query('SELECT count(*)::int AS n FROM chronic_registry');
    await recomputeAll(server().db, sets, todayInChina(), { chunk: 97 });
    expect(await (await server().api('/api/indicators?period=2025&groupBy=street')).json()).toEqual(before);
    expect((await server().db.query('SELECT count(*)::int AS n FROM chronic_registry')).rows).toEqual(reg.rows);
  });

  it('each figure drills down to the residents behind it', async () => {
    const res = await server().api('/api/indicators?period=2025&indicator=htn-control');
    const total = ((await res.json()) as { values: { numerator: number; denominator: number }[] }).values[0]!;
    const drill = (await (await server().api('/api/indicators/htn-control/residents?period=2025')).json()) as {
      total: number;
      rows: { inNumerator: boolean }[];
    };
    expect(drill.total).toBe(total.denominator);
    expect(drill.rows.filter((r) => r.inNumerator).length).toBe(total.numerator);
    const bad = await server().api('/api/indicators?indicator=nope');
    expect(bad.status).toBe(400);
  });

  it('worklists, registry and confirmation list are populated from the record', async () => {
    const reg = (await (await server().api('/api/chronic/registry?disease=htn&limit=5')).json()) as {
      total: number;
      rows: { status: string }[];
    };
    expect(reg.total).toBeGreaterThan(20);
    const wl = (await (await server().api('/api/chronic/worklist?asOf=2025-12-31')).json()) as Record<string, unknown[]> & {
      counts: Record<string, number>;
    };
    expect(wl.due!.length + wl.overdue!.length + wl.referred!.length).toBeGreaterThan(0);
    // The counts per bucket agree with the lists (under 2,000 rows here), and the summary carries them alone.
    expect(wl.counts).toEqual({
      due: wl.due!.length,
      overdue: wl.overdue!.length,
      recall: wl.recall!.length,
      referred: wl.referred!.length,
    });
    const summary = (await (await server().api('/api/chronic/worklist?asOf=2025-12-31&summary=true')).json()) as typeof wl;
    expect(summary.counts).toEqual(wl.counts);
    expect(summary.due).toEqual([]);
    const conf = (await (await server().api('/api/chronic/confirmations')).json()) as { rows: unknown[] };
    expect(Array.isArray(conf.rows)).toBe(true);
  });
});

describe('reference helper sanity', () => {
  it('loads rule sets', () => expect(sets.length).toBe(2));
});
